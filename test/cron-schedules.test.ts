// Cron jobs as Temporal Schedules, end to end: real Temporal, the real `claude` CLI on the
// fake Messages API. Interval counting, pause and resume, trigger, overlap skip, runs from
// visibility, one-shots, and the same jobs seen through the `temporal` CLI.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CronError } from '../cron/errors.js';
import type { CronService } from '../cron/service.js';
import { resolveTemporalBinary } from '../supervisor/temporal-binary.js';
import { cronService, removeCronJobs, uniqueJobName } from './support/cron.js';
import { startFakeAnthropic, type FakeAnthropic } from './support/fake-anthropic.js';
import { startTestGateway, temporalAddress, type TestGateway } from './support/gateway.js';
import { durableEvents, eventually } from './support/sessions.js';

let fake: FakeAnthropic;
let gateway: TestGateway;
let service: CronService;
const created: string[] = [];

before(async () => {
  fake = await startFakeAnthropic();
  gateway = await startTestGateway({ fake });
  service = cronService(gateway);
});
after(async () => {
  // Nothing this file created may fire into the next test file.
  if (gateway) await removeCronJobs(gateway.client, created);
  await gateway?.close();
  await fake?.close();
});

function newJob(label: string): string {
  const name = uniqueJobName(label);
  created.push(name);
  return name;
}

/** Multiples of `everyMs` since the epoch in (from, to]: the times an interval schedule fires. */
const ticks = (from: number, to: number, everyMs: number) => Math.floor(to / everyMs) - Math.floor(from / everyMs);

const actionCount = async (name: string) => (await service.get(name)).info!.actionCount!;

describe('an interval job', () => {
  test('every 2 s fires the expected number of times; pause stops it and resume restarts it', async () => {
    const name = newJob('every2s');
    const prompt = `interval job ${name}`;
    // allowAll: a turn (about 2 s here) never makes a tick skip, so every tick is a run.
    const createdBefore = Date.now();
    await service.add(name, { schedule: { every: '2s' }, prompt, overlap: 'allowAll' });
    const createdAfter = Date.now();
    await eventually('five runs taken', async () => (await actionCount(name)) >= 5);
    const pausedBefore = Date.now();
    const paused = await service.pause(name, 'counted enough');
    const pausedAfter = Date.now();
    assert.equal(paused.state, 'paused');
    assert.equal(paused.note, 'counted enough');
    assert.deepEqual(paused.nextRunTimes, []);

    // An interval schedule fires at every multiple of 2 s since the epoch, so the runs to
    // expect are the multiples between the creation and the pause. The create and pause
    // calls take some milliseconds and the server's clock decides on which side of them a
    // boundary tick falls: the count lies between the ticks of the inner interval
    // (after creating, before pausing) and those of the outer one (before creating, after
    // pausing), give or take one for a tick that falls on the server's handling of either call.
    const taken = (await service.get(name)).info!;
    const least = ticks(createdAfter, pausedBefore, 2000) - 1;
    const most = ticks(createdBefore, pausedAfter, 2000) + 1;
    assert.ok(taken.actionCount! >= least && taken.actionCount! <= most, `took ${taken.actionCount} runs, expected ${least}..${most}`);
    assert.equal(taken.skippedOverlap, 0);

    // Every run ran its turn once, in the job's isolated session, and shows in `runs`.
    const count = taken.actionCount!;
    const runs = await eventually('every run finished and visible', async () => {
      const list = await service.runs(name, { limit: 100 });
      return list.length === count && list.every((run) => run.status === 'completed') ? list : undefined;
    });
    for (const run of runs) {
      assert.equal(run.outcome, 'completed');
      assert.equal(run.result, `echo: ${prompt}`);
      assert.ok(run.durationMs !== undefined && run.durationMs >= 0);
      assert.match(run.workflowId, new RegExp(`^cron:${name}-\\d{4}-\\d{2}-\\d{2}T`));
      assert.ok(run.scheduledAt);
    }
    assert.equal(new Set(runs.map((run) => run.scheduledAt)).size, count, 'no tick ran twice');
    const completed = (await durableEvents(gateway, `agent:main:cron:${name}`)).filter((event) => event.type === 'turn.completed');
    assert.equal(completed.length, count);

    // Paused: no more runs, across several intervals.
    await sleep(5000);
    assert.equal(await actionCount(name), count);

    const resumed = await service.resume(name);
    assert.equal(resumed.state, 'active');
    assert.ok(resumed.nextRunTimes.length > 0);
    await eventually('runs again after resume', async () => (await actionCount(name)) > count);
    await service.pause(name);
  });

  test('skip: a tick while a slow turn runs is skipped, never run beside it', async () => {
    const name = newJob('skip');
    const prompt = `slow job ${name}`;
    fake.enqueueFor(prompt, { kind: 'text', text: 'slow answer', chunks: 1, delayMs: 7000 });
    await service.add(name, { schedule: { every: '2s' }, prompt, overlap: 'skip' });
    await eventually('ticks skipped while the slow run ran', async () => {
      const info = (await service.get(name)).info!;
      return info.skippedOverlap! >= 2 && info.actionCount! >= 2;
    });
    await service.pause(name);
    const info = (await service.get(name)).info!;
    const runs = await eventually('runs finished', async () => {
      const list = await service.runs(name, { limit: 100 });
      return list.length === info.actionCount && list.every((run) => run.closedAt) ? list : undefined;
    });
    const byStart = [...runs].sort((a, b) => Date.parse(a.startedAt) - Date.parse(b.startedAt));
    assert.equal(byStart[0]!.result, 'slow answer');
    for (let i = 1; i < byStart.length; i++) {
      assert.ok(Date.parse(byStart[i]!.startedAt) >= Date.parse(byStart[i - 1]!.closedAt!), 'a run started while another was running');
    }
  });
});

describe('operations', () => {
  test('trigger runs a job at once, even a paused one', async () => {
    const name = newJob('trigger');
    const prompt = `triggered job ${name}`;
    const view = await service.add(name, { schedule: { cron: '0 0 1 1 *' }, prompt, paused: true });
    assert.equal(view.state, 'paused');
    assert.equal(view.source, 'runtime');
    await service.trigger(name);
    const [run] = await eventually('the triggered run completed', async () => {
      const runs = await service.runs(name);
      return runs.length === 1 && runs[0]!.status === 'completed' ? runs : undefined;
    });
    assert.equal(run!.result, `echo: ${prompt}`);
    assert.equal((await service.get(name)).state, 'paused');
  });

  test('list, get, update and remove a run-time job; errors say what is wrong', async () => {
    const name = newJob('ops');
    await service.add(name, { schedule: { cron: '30 9 * * MON-FRI', timezone: 'Europe/Paris' }, prompt: 'weekday report', description: 'the weekday report' });
    await assert.rejects(service.add(name, { schedule: { every: '1h' }, prompt: 'again' }), (error: CronError) => error.code === 'exists');
    await assert.rejects(service.add(newJob('bad'), { schedule: { cron: '0 25 * * *' }, prompt: 'x' }), (error: CronError) => error.code === 'invalid' && /hour/.test(error.message));
    await assert.rejects(service.add(newJob('ghost'), { schedule: { every: '1h' }, prompt: 'x', agent: 'ghost' }), (error: CronError) => error.code === 'invalid' && /agent "ghost"/.test(error.message));
    await assert.rejects(service.get(uniqueJobName('missing')), (error: CronError) => error.code === 'not_found');

    const got = await service.get(name);
    assert.equal(got.job.description, 'the weekday report');
    assert.equal(got.sessionKey, `agent:main:cron:${name}`);
    assert.equal(got.nextRunTimes.length, 10);
    assert.ok(got.nextRunTimes.every((time) => [1, 2, 3, 4, 5].includes(new Date(time).getUTCDay())));
    await eventually('listed', async () => (await service.list()).some((job) => job.name === name));

    await service.pause(name, 'holiday');
    const updated = await service.update(name, { prompt: 'weekday report, v2', schedule: { every: '1h', offset: '15m' } });
    assert.equal(updated.job.prompt, 'weekday report, v2');
    assert.deepEqual(updated.job.schedule, { every: '1h', offset: '15m' });
    assert.equal(updated.paused, true, 'an update keeps the pause');
    assert.equal(updated.note, 'holiday');
    assert.notEqual(updated.specHash, got.specHash);
    const description = await gateway.client.schedule.getHandle(`cron:${name}`).describe();
    assert.deepEqual(description.spec.intervals, [{ every: 3_600_000, offset: 900_000 }]);

    assert.deepEqual(await service.remove(name), { name, kind: 'schedule', removed: true });
    await assert.rejects(service.get(name), (error: CronError) => error.code === 'not_found');
  });

  test('a one-shot at a delay runs once, is listed while pending, and can be triggered or removed', async () => {
    const soon = newJob('at-soon');
    const later = newJob('at-later');
    const gone = newJob('at-gone');
    await service.add(soon, { schedule: { at: '3s' }, prompt: `one-shot ${soon}` });
    await service.add(later, { schedule: { at: '1h' }, prompt: `one-shot ${later}` });
    await service.add(gone, { schedule: { at: '1h' }, prompt: `one-shot ${gone}` });
    const pending = await service.get(later);
    assert.equal(pending.kind, 'at');
    assert.equal(pending.state, 'pending');
    assert.equal(pending.nextRunTimes.length, 1);
    await eventually('pending one-shots listed beside the schedules', async () => {
      const names = (await service.list()).map((job) => job.name);
      return names.includes(later) && names.includes(gone);
    });
    await assert.rejects(service.pause(later), (error: CronError) => error.code === 'unsupported');
    const runIdOf = async (job: string) => {
      const record = await service.record(job);
      assert.ok(record?.kind === 'at');
      return record.description.runId;
    };
    const before = await runIdOf(later);
    const changed = await service.update(later, { prompt: `one-shot ${later}, changed` });
    assert.equal(changed.state, 'pending');
    assert.equal(changed.job.prompt, `one-shot ${later}, changed`);
    assert.notEqual(await runIdOf(later), before, 'the pending run was replaced');

    const [ran] = await eventually('the 3 s one-shot ran', async () => {
      const runs = await service.runs(soon);
      return runs.length === 1 && runs[0]!.status === 'completed' ? runs : undefined;
    });
    assert.equal(ran!.workflowId, `cron:${soon}`);
    assert.equal(ran!.result, `echo: one-shot ${soon}`);
    assert.equal((await service.get(soon)).state, 'completed');

    await service.trigger(later);
    await eventually('the triggered one-shot ran now, not in an hour', async () => (await service.get(later)).state === 'completed');
    assert.equal(await eventually('its run visible', async () => (await service.runs(later))[0]?.result), `echo: one-shot ${later}, changed`);

    await service.remove(gone);
    assert.equal((await service.get(gone)).state, 'terminated');
    await assert.rejects(service.add(newJob('past'), { schedule: { at: '2000-01-01T00:00:00Z' }, prompt: 'x' }), (error: CronError) => error.code === 'invalid' && /in the past/.test(error.message));
  });
});

describe('the same jobs through the temporal CLI', () => {
  test('schedule list and describe show the job and its memo; a pause made there shows here', async () => {
    const name = newJob('cli');
    await service.add(name, { schedule: { every: '1h' }, prompt: 'seen from the CLI' });
    const binary = await resolveTemporalBinary();
    assert.equal(binary.kind, 'path');
    if (binary.kind !== 'path') return;
    const temporal = (...args: string[]) => execFileSync(binary.path, [...args, '--address', temporalAddress(), '--namespace', gateway.config.temporal.namespace], { encoding: 'utf8' });

    const list = await eventually('listed by temporal schedule list', () => {
      const out = temporal('schedule', 'list');
      return out.includes(`cron:${name}`) ? out : undefined;
    });
    assert.match(list, new RegExp(`cron:${name}\\s+\\{"Workflow":"cronRunWorkflow"\\}\\s+false`));

    const described = temporal('schedule', 'describe', '--schedule-id', `cron:${name}`);
    const memo = /^\s*Memo\s+(.+)$/m.exec(described)?.[1];
    assert.ok(memo, described);
    assert.deepEqual(JSON.parse(memo).fields, { job: name, managedBy: 'switchyard', source: 'runtime' });
    assert.match(described, /OverlapPolicy\s+Skip/);
    assert.match(described, /CatchupWindow\s+1h 0m 0s/);

    temporal('schedule', 'toggle', '--schedule-id', `cron:${name}`, '--pause', '--reason', 'paused from the temporal CLI');
    const view = await service.get(name);
    assert.equal(view.paused, true);
    assert.equal(view.note, 'paused from the temporal CLI');
  });
});
