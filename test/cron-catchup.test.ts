// Catch-up after an outage of Temporal itself, against a dev server this test owns: stopped
// for a while, then started again on the same database (as test/readiness.test.ts does).
//
// Why the server and not the worker: the schedule is kept by Temporal's scheduler, inside
// the server. With only the worker down, the scheduler still takes every action on time:
// it starts each run workflow, which simply waits in the task queue until a worker polls
// again, so nothing is ever "missed" and the catch-up window never applies. An action is
// missed only when the scheduler itself could not take it at its time, that is when the
// server is down; on restart it looks back over the catch-up window and takes the missed
// actions that are still inside it (each once, as the overlap policy allows), and counts
// the older ones as missed.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { cronService, removeCronJobs, uniqueJobName } from './support/cron.js';
import { startFakeAnthropic, type FakeAnthropic } from './support/fake-anthropic.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';
import { eventually } from './support/sessions.js';
import { OwnTemporal } from './support/own-temporal.js';

const EVERY_MS = 5000;
// A caught-up tick must lie inside the window when the scheduler wakes after the restart,
// and the newest missed tick is up to one interval old by then: a 15 s window leaves ~10 s
// for that wake on a loaded machine (Temporal's 10 s minimum would leave ~5 s). The outage
// is long enough for ticks outside the window too, and no longer: it is this file's wall time.
const WINDOW_MS = 15_000;
const OUTAGE_MS = 30_000;

let temporal: OwnTemporal;
let fake: FakeAnthropic;
let gateway: TestGateway;
const name = uniqueJobName('catchup');

before(async () => {
  temporal = await OwnTemporal.start('cron-catchup');
  fake = await startFakeAnthropic();
  gateway = await startTestGateway({ fake, temporalAddress: temporal.address });
});
after(async () => {
  if (gateway && temporal?.running) await removeCronJobs(gateway.client, [name]).catch(() => undefined);
  await gateway?.close();
  await temporal?.dispose();
  await fake?.close();
});

test('runs missed while Temporal was down run once each inside the catch-up window, none outside it', async (t) => {
  const service = cronService(gateway);
  // bufferAll: every missed action inside the window runs (one after the other), none is
  // dropped as an overlap, so what ran is exactly what the window let through.
  await service.add(name, { schedule: { every: '5s' }, prompt: `catch-up job ${name}`, overlap: 'bufferAll', catchupWindow: `${WINDOW_MS / 1000}s` });
  await eventually('a run before the outage', async () => (await service.get(name)).info!.actionCount! >= 1);

  const stoppedAt = Date.now();
  await temporal.stop();
  await sleep(OUTAGE_MS);
  const restartedAt = Date.now();
  await temporal.start();

  // Catch-up runs first (buffered in order), then the schedule goes on: once a run
  // scheduled after the restart has completed, the catch-up is over.
  await eventually(
    'a run scheduled after the restart completed',
    async () => {
      const runs = await service.runs(name, { limit: 100 });
      return runs.some((run) => run.status === 'completed' && Date.parse(run.scheduledAt!) > restartedAt);
    },
    180_000,
  );
  await service.pause(name, 'catch-up checked');
  const info = (await service.get(name)).info!;
  const runs = await eventually('every taken run visible and closed', async () => {
    const list = await service.runs(name, { limit: 100 });
    return list.length === info.actionCount && list.every((run) => run.closedAt) ? list : undefined;
  });

  const scheduled = runs.map((run) => Date.parse(run.scheduledAt!)).sort((a, b) => a - b);
  assert.equal(new Set(scheduled).size, scheduled.length, 'no scheduled time ran twice');
  assert.ok(scheduled.every((time) => time % EVERY_MS === 0), 'every run is a tick of the interval');
  assert.ok(runs.every((run) => run.status === 'completed'), 'every run completed');

  // The ticks the scheduler could not take on time: after the last one taken before the
  // stop (a tick due just as the server was stopped counts too), up to the restart.
  const lastBefore = Math.max(...scheduled.filter((time) => time <= stoppedAt));
  const gap: number[] = [];
  for (let tick = lastBefore + EVERY_MS; tick <= restartedAt; tick += EVERY_MS) gap.push(tick);
  const caught = gap.filter((tick) => scheduled.includes(tick));
  const missed = gap.filter((tick) => !scheduled.includes(tick));
  t.diagnostic(`outage ${iso(stoppedAt)} → ${iso(restartedAt)}: caught up ${caught.map(iso).join(', ')}; dropped ${missed.map(iso).join(', ')}`);
  assert.ok(caught.length >= 1, 'some missed runs were caught up');
  assert.ok(missed.length >= 1, 'the outage was longer than the window, so some were dropped');

  // The scheduler woke at some point after the restart, no later than the first caught-up
  // run started. The window reaches back WINDOW_MS from its wake time, so: every caught-up
  // tick is less than WINDOW_MS older than the restart (inside the window at any wake time),
  // every dropped tick is at least WINDOW_MS older than that first caught-up start, and
  // every gap tick younger than that bound ran.
  const firstCaughtStart = Math.min(...runs.filter((run) => caught.includes(Date.parse(run.scheduledAt!))).map((run) => Date.parse(run.startedAt)));
  assert.ok(caught.every((tick) => tick > restartedAt - WINDOW_MS), `caught-up ticks inside the window: ${caught.map(iso)}`);
  assert.ok(missed.every((tick) => tick <= firstCaughtStart - WINDOW_MS), `dropped ticks outside the window: ${missed.map(iso)}`);
  assert.ok(Math.max(...missed) < Math.min(...caught), 'the window drops the oldest ticks only');
  assert.ok(gap.filter((tick) => tick > firstCaughtStart - WINDOW_MS).every((tick) => caught.includes(tick)), 'every tick inside the window ran');
  assert.equal(info.missedCatchupWindow, missed.length, "Temporal's own count of dropped actions");
});

const iso = (time: number) => new Date(time).toISOString();
