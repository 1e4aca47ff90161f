// The session workflow's bookkeeping, as plain classes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EVENT_WINDOW_MAX_BYTES, EVENT_WINDOW_MAX_EVENTS, EventLog } from '../workflows/event-log.js';
import { RECENT_KEYS_LIMIT, RecentKeys } from '../workflows/recent-keys.js';

test('the event log numbers events and pages by seq', () => {
  const log = new EventLog('agent:main:main');
  for (let i = 0; i < 5; i++) log.append('turn.queued', `t${i}`, i, {});
  assert.equal(log.lastSeq, 5);
  assert.deepEqual(log.page({ afterSeq: 2, limit: 2 }).events.map((e) => e.seq), [3, 4]);
  const resumed = new EventLog('agent:main:main', log.snapshot().events, log.snapshot().nextSeq);
  assert.equal(resumed.append('turn.started', 't', 0, {}).seq, 6);
});

test('the event log window is bounded by count and by size', () => {
  const log = new EventLog('k');
  for (let i = 0; i < EVENT_WINDOW_MAX_EVENTS + 10; i++) log.append('turn.queued', 't', i, {});
  assert.equal(log.snapshot().events.length, EVENT_WINDOW_MAX_EVENTS);
  assert.equal(log.page().firstSeq, 11);
  const big = new EventLog('k');
  for (let i = 0; i < 20; i++) big.append('turn.completed', 't', i, { result: 'x'.repeat(64 * 1024) });
  assert.ok(JSON.stringify(big.snapshot().events).length <= EVENT_WINDOW_MAX_BYTES);
  assert.equal(big.lastSeq, 20);
});

test('recent keys remember the first message id, survive a snapshot, and forget the oldest', () => {
  const keys = new RecentKeys();
  keys.add('a=b', 'm1');
  keys.add('a=b', 'm2');
  assert.equal(keys.get('a=b'), 'm1');
  assert.equal(new RecentKeys(keys.snapshot()).get('a=b'), 'm1');
  for (let i = 0; i < RECENT_KEYS_LIMIT; i++) keys.add(`k${i}`, `m${i}`);
  assert.equal(keys.get('a=b'), undefined);
  assert.equal(keys.get(`k${RECENT_KEYS_LIMIT - 1}`), `m${RECENT_KEYS_LIMIT - 1}`);
});
