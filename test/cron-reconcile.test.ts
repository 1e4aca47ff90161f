// Reconciliation of config cron jobs with Temporal, as every start runs it: idempotent,
// in place, safe when two processes run it at once, and deleting only what config created.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { reconcileCronJobs, type ReconcileReport } from '../cron/reconcile.js';
import type { CronService } from '../cron/service.js';
import type { CronJob } from '../cron/types.js';
import { cronJob, cronService, removeCronJobs, uniqueJobName } from './support/cron.js';
import { startFakeAnthropic, type FakeAnthropic } from './support/fake-anthropic.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';
import { eventually } from './support/sessions.js';

let fake: FakeAnthropic;
let gateway: TestGateway;
let service: CronService;
const created: string[] = [];

before(async () => {
  fake = await startFakeAnthropic();
  // No worker: reconciliation only talks to Temporal, and nothing here is due to run.
  gateway = await startTestGateway({ fake, worker: false });
  service = cronService(gateway);
});
after(async () => {
  if (gateway) await removeCronJobs(gateway.client, created);
  await gateway?.close();
  await fake?.close();
});

function newName(label: string): string {
  const name = uniqueJobName(label);
  created.push(name);
  return name;
}

const sorted = (names: string[]) => [...names].sort();

/** What changes when Temporal writes a job: the schedule's conflict token, or the one-shot's run. */
async function versions(names: string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of names) {
    const record = await service.record(name);
    assert.ok(record, `cron:${name} exists`);
    out[name] = record.kind === 'schedule' ? Buffer.from(record.description.raw.conflictToken ?? []).toString('hex') : record.description.runId;
  }
  return out;
}

describe('config → Temporal at every start', () => {
  let a: string, b: string, c: string;
  let desired: Record<string, CronJob>;

  test('run twice: created once, then nothing is created or updated', async () => {
    a = newName('rec-every');
    b = newName('rec-cron');
    c = newName('rec-at');
    desired = {
      [a]: cronJob({ schedule: { every: '1h' }, prompt: 'a' }),
      [b]: cronJob({ schedule: { cron: '0 9 * * MON-FRI', timezone: 'Europe/Paris' }, prompt: 'b', overlap: 'bufferOne' }),
      [c]: cronJob({ schedule: { at: '1h' }, prompt: 'c' }),
    };
    const first = await reconcileCronJobs(service, desired);
    assert.deepEqual(sorted(first.created), sorted([a, b, c]));
    assert.deepEqual([first.updated, first.unchanged, first.skipped], [[], [], []]);
    const before = await versions([a, b, c]);

    const second = await reconcileCronJobs(service, desired);
    assert.deepEqual(sorted(second.unchanged), sorted([a, b, c]));
    assert.deepEqual([second.created, second.updated, second.deleted, second.skipped], [[], [], [], []]);
    assert.deepEqual(await versions([a, b, c]), before, 'the second pass wrote nothing');

    const view = await service.get(b);
    assert.equal(view.source, 'config');
    const description = await gateway.client.schedule.getHandle(`cron:${b}`).describe();
    assert.deepEqual(description.memo, { managedBy: 'switchyard', source: 'config', job: b });
    assert.equal(description.policies.overlap, 'BUFFER_ONE');
    assert.equal(description.spec.timezone, 'Europe/Paris');
    assert.equal((await service.get(c)).state, 'pending');
  });

  test('a changed job is updated in place; an operator\'s pause survives it unless config changes paused', async () => {
    const createdAt = (await service.get(a)).info!.createdAt;
    await service.pause(a, 'operator: investigating');
    desired[a] = cronJob({ schedule: { every: '1h' }, prompt: 'a, reworded' });
    const report = await reconcileCronJobs(service, desired);
    assert.deepEqual(report.updated, [a]);
    assert.deepEqual(sorted(report.unchanged), sorted([b, c]));
    const view = await service.get(a);
    assert.equal(view.job.prompt, 'a, reworded');
    assert.equal(view.info!.createdAt, createdAt, 'updated, not recreated');
    assert.equal(view.paused, true);
    assert.equal(view.note, 'operator: investigating');
    assert.deepEqual((await reconcileCronJobs(service, desired)).updated, []);

    desired[a] = cronJob({ schedule: { every: '1h' }, prompt: 'a, reworded', paused: true });
    await reconcileCronJobs(service, desired);
    desired[a] = cronJob({ schedule: { every: '1h' }, prompt: 'a, reworded', paused: false });
    await reconcileCronJobs(service, desired);
    assert.equal((await service.get(a)).paused, false, 'config said paused: false, and that changed');

    // A one-shot whose time changed is replaced by a new pending run.
    const oldRun = (await versions([c]))[c];
    desired[c] = cronJob({ schedule: { at: '2h' }, prompt: 'c' });
    assert.deepEqual((await reconcileCronJobs(service, desired)).updated, [c]);
    assert.notEqual((await versions([c]))[c], oldRun);
    assert.equal((await service.get(c)).state, 'pending');
  });

  test('a job removed from config disappears; run-time jobs and foreign schedules stay', async () => {
    const runtime = newName('rec-runtime');
    await service.add(runtime, { schedule: { every: '1h' }, prompt: 'added at run time' });
    const foreign = newName('rec-foreign');
    await gateway.client.schedule.create({
      scheduleId: `cron:${foreign}`,
      spec: { intervals: [{ every: '1h' }] },
      action: { type: 'startWorkflow', workflowType: 'somethingElse', taskQueue: 'elsewhere', args: [] },
      state: { paused: true },
    });

    const remaining = { [a]: desired[a]!, [foreign]: cronJob({ schedule: { every: '1h' }, prompt: 'not ours' }) };
    // Deletion finds candidates through visibility, which lags a moment behind creations.
    const deleted: string[] = [];
    let last: ReconcileReport | undefined;
    await eventually('b and c deleted', async () => {
      last = await reconcileCronJobs(service, remaining);
      deleted.push(...last.deleted);
      return deleted.includes(b) && deleted.includes(c);
    });
    assert.deepEqual(sorted(deleted), sorted([b, c]));
    assert.deepEqual(last!.skipped.map((s) => s.name), [foreign]);
    assert.match(last!.skipped[0]!.reason, /not created by Switchyard/);
    await assert.rejects(service.get(b), { code: 'not_found' });
    assert.equal((await service.get(c)).state, 'terminated');
    assert.equal((await service.get(runtime)).source, 'runtime');
    assert.equal((await service.get(a)).source, 'config');
    assert.equal((await gateway.client.schedule.getHandle(`cron:${foreign}`).describe()).action.workflowType, 'somethingElse');
  });

  test('two processes reconciling at once create each job once', async () => {
    const d = newName('rec-race');
    const e = newName('rec-race-at');
    const jobs = { [a]: desired[a]!, [d]: cronJob({ schedule: { every: '1h' }, prompt: 'd' }), [e]: cronJob({ schedule: { at: '1h' }, prompt: 'e' }) };
    const [one, two] = await Promise.all([reconcileCronJobs(cronService(gateway), jobs), reconcileCronJobs(cronService(gateway), jobs)]);
    assert.deepEqual(sorted([...one.created, ...two.created]), sorted([d, e]), 'each created exactly once');
    assert.deepEqual([...one.updated, ...two.updated], []);
    assert.deepEqual(sorted([...one.unchanged, ...two.unchanged]), sorted([a, a, d, e]));
  });

  test('config takes over a run-time job of the same name', async () => {
    const name = newName('rec-takeover');
    await service.add(name, { schedule: { every: '1h' }, prompt: 'run-time version' });
    const report = await reconcileCronJobs(service, { [a]: desired[a]!, [name]: cronJob({ schedule: { every: '2h' }, prompt: 'config version' }) });
    assert.deepEqual(report.updated, [name]);
    const view = await service.get(name);
    assert.equal(view.source, 'config');
    assert.equal(view.job.prompt, 'config version');
  });
});
