// The stall watch on its own: mocked timers, so the silences are exact and instant.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, mock, test } from 'node:test';
import { StallWatch } from '../activities/stall-watch.js';

beforeEach(() => mock.timers.enable({ apis: ['setTimeout'] }));
afterEach(() => mock.timers.reset());

function watch(timeoutMs = 1000) {
  let stalls = 0;
  const w = new StallWatch({ timeoutMs, onStall: () => (stalls += 1) });
  return { w, stalls: () => stalls };
}

test('a silence as long as the limit is a stall, reported once', () => {
  const { w, stalls } = watch();
  w.start();
  mock.timers.tick(999);
  assert.equal(w.stalled, false);
  mock.timers.tick(1);
  assert.equal(w.stalled, true);
  mock.timers.tick(5000);
  assert.equal(stalls(), 1);
});

test('output restarts the silence', () => {
  const { w, stalls } = watch();
  w.start();
  for (let i = 0; i < 10; i++) {
    mock.timers.tick(900);
    w.touch();
  }
  assert.equal(stalls(), 0);
  mock.timers.tick(1000);
  assert.equal(stalls(), 1);
});

test('a running tool pauses the watch; its result restarts it', () => {
  const { w, stalls } = watch();
  w.start();
  w.toolStarted('toolu_1');
  w.toolStarted('toolu_2');
  mock.timers.tick(60_000);
  w.touch(); // output while the tools run does not re-arm it either
  mock.timers.tick(60_000);
  assert.equal(stalls(), 0);
  w.toolFinished('toolu_1');
  mock.timers.tick(60_000);
  assert.equal(stalls(), 0, 'one tool still runs');
  w.toolFinished('toolu_2');
  mock.timers.tick(999);
  assert.equal(stalls(), 0);
  mock.timers.tick(1);
  assert.equal(stalls(), 1);
});

test('stop ends the watch', () => {
  const { w, stalls } = watch();
  w.start();
  w.stop();
  mock.timers.tick(10_000);
  assert.equal(stalls(), 0);
});
