// What a cron run does in its session: a retried send into a named session sends once; an
// isolated run starts a fresh Claude session each time; a run past its timeout cancels its
// turn and fails (pausing the schedule with pauseOnFailure); a result is delivered signed.
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { Worker } from '@temporalio/worker';
import type { CronSendRequest } from '../activities/cron-activities.js';
import type { CronService } from '../cron/service.js';
import type { CronRunResult } from '../cron/types.js';
import { workflowBundle } from '../worker/workflow-bundle.js';
import { cronService, removeCronJobs, uniqueJobName } from './support/cron.js';
import { startFakeAnthropic, type FakeAnthropic } from './support/fake-anthropic.js';
import { startTestGateway, uniqueScope, type TestGateway } from './support/gateway.js';
import { durableEvents, eventually, outcomeOf, sendMessage } from './support/sessions.js';

const DELIVER_KEY = randomBytes(32);
const DELIVER_SECRET = `whsec_${DELIVER_KEY.toString('base64')}`;

let fake: FakeAnthropic;
let gateway: TestGateway;
let service: CronService;
let receiver: http.Server;
let receiverUrl: string;
const received: Array<{ headers: http.IncomingHttpHeaders; body: string }> = [];
const sendAttempts: Array<{ request: CronSendRequest; attempt: number }> = [];
const created: string[] = [];
/** Runs of the tests below, replayed at the end against today's workflow code. */
const replayable: string[] = [];

before(async () => {
  fake = await startFakeAnthropic();
  receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/cron-results`;
  gateway = await startTestGateway({
    fake,
    config: { gateway: { deliverSecret: DELIVER_SECRET } },
    cronHooks: {
      // The first send of a "retried-" job fails after Temporal accepted the message, as a
      // worker that dies between the two would: the activity is retried and sends again.
      afterSend(request, attempt) {
        if (!request.job.startsWith('retried-')) return;
        sendAttempts.push({ request, attempt });
        if (attempt === 1) throw new Error('test hook: failing after the send was accepted');
      },
    },
  });
  service = cronService(gateway);
});
after(async () => {
  if (gateway) await removeCronJobs(gateway.client, created);
  await gateway?.close();
  await fake?.close();
  await new Promise((resolve) => receiver?.close(resolve));
});

function newJob(label: string): string {
  const name = uniqueJobName(label);
  created.push(name);
  return name;
}

/** Triggers a job and waits for the run it starts to close; returns the run. */
async function triggerAndWait(name: string, previousRuns = 0) {
  await service.trigger(name);
  const runs = await eventually(`run ${previousRuns + 1} of ${name} closed`, async () => {
    const list = await service.runs(name);
    return list.length === previousRuns + 1 && list.every((run) => run.closedAt) ? list : undefined;
  });
  return runs[0]!;
}

describe('named sessions', () => {
  test('a run whose send is retried sends its message once, into the session and its context', async () => {
    const sessionKey = `agent:main:${uniqueScope('cron-named')}`;
    const first = await sendMessage(gateway, { message: 'remember the word QUINCE', sessionKey });
    await outcomeOf(gateway, sessionKey, first.messageId);

    const name = newJob('retried');
    await service.add(name, { schedule: { cron: '0 0 1 1 *' }, session: sessionKey, prompt: 'which word did I ask you to remember?', paused: true });
    const run = await triggerAndWait(name);
    assert.equal(run.status, 'completed');
    assert.equal(run.result, 'echo: which word did I ask you to remember?');

    // The activity ran twice and sent twice; the session ran the message once.
    assert.deepEqual(sendAttempts.map((s) => s.attempt), [1, 2]);
    assert.equal(sendAttempts[0]!.request.runKey, run.workflowId, 'the idempotency key is the run\'s workflow id');
    assert.equal(sendAttempts[0]!.request.messageId, sendAttempts[1]!.request.messageId);
    const events = await durableEvents(gateway, sessionKey);
    const queued = events.filter((event) => event.type === 'turn.queued' && event.data.source === `cron:${name}`);
    assert.equal(queued.length, 1);
    assert.equal(queued[0]!.data.messageId, sendAttempts[0]!.request.messageId);
    assert.equal(events.filter((event) => event.type === 'turn.completed').length, 2);

    // A named session keeps its context: the cron turn resumed the conversation.
    const started = events.filter((event) => event.type === 'turn.started');
    assert.deepEqual(started.map((event) => event.data.resumed), [false, true]);
    const call = fake.mainRequests().filter((r) => r.prompt?.includes('which word did I ask you to remember?')).at(-1)!;
    assert.match(JSON.stringify(call.body.messages), /remember the word QUINCE/);

    replayable.push(run.workflowId);
    const result = (await gateway.client.workflow.getHandle(run.workflowId).result()) as CronRunResult;
    assert.equal(result.sessionKey, sessionKey);
    assert.equal(result.messageId, queued[0]!.data.messageId);
  });
});

describe('isolated runs', () => {
  test('each run starts a fresh Claude session in agent:<agent>:cron:<name>', async () => {
    const name = newJob('isolated');
    const prompt = `isolated run of ${name}`;
    await service.add(name, { schedule: { cron: '0 0 1 1 *' }, prompt, paused: true });
    await triggerAndWait(name, 0);
    await triggerAndWait(name, 1);
    const events = await durableEvents(gateway, `agent:main:cron:${name}`);
    const started = events.filter((event) => event.type === 'turn.started');
    assert.equal(started.length, 2);
    assert.deepEqual(started.map((event) => event.data.resumed), [false, false]);
    assert.notEqual(started[0]!.data.claudeSessionId, started[1]!.data.claudeSessionId);
    const second = fake.mainRequests().filter((r) => r.prompt?.includes(prompt)).at(-1)!;
    assert.equal(JSON.stringify(second.body.messages).split(prompt).length - 1, 1, 'the second run does not see the first');
  });
});

describe('timeouts and failures', () => {
  test('a run past its timeout cancels its turn, fails, and pauses a pauseOnFailure schedule', async () => {
    const name = newJob('timeout');
    const prompt = `never answered ${name}`;
    fake.enqueueFor(prompt, { kind: 'hang' });
    // A scheduled run, not a trigger: a triggered run (overlap allowAll by default) is not
    // tracked by the schedule, so pauseOnFailure does not apply to it.
    await service.add(name, { schedule: { every: '2s' }, prompt, timeout: '3s', pauseOnFailure: true });
    await eventually('the schedule paused itself', async () => (await service.get(name)).paused);
    const runs = await eventually('the failed run visible', async () => {
      const list = await service.runs(name);
      return list.length > 0 && list.every((run) => run.closedAt) ? list : undefined;
    });
    assert.equal(runs.length, 1, 'the ticks during the run were skipped, and none came after the pause');
    const run = runs[0]!;
    replayable.push(run.workflowId);
    assert.equal(run.status, 'failed');
    assert.equal(run.outcome, 'timed-out');
    assert.match(run.reason ?? '', /no outcome within the run's 3 s timeout/);
    const cancelled = await eventually('the turn was cancelled', async () =>
      (await durableEvents(gateway, `agent:main:cron:${name}`)).find((event) => event.type === 'turn.cancelled'),
    );
    assert.match(String(cancelled.data.reason), /3 s timeout/);
    assert.match((await service.get(name)).note ?? '', /fail/i);
  });
});

describe('overlap cancelOther', () => {
  test('a due run cancels the one in progress, and its turn with it', async () => {
    const name = newJob('cancel-other');
    const prompt = `cancel other ${name}`;
    fake.enqueueFor(prompt, { kind: 'hang' });
    // 5 s: long enough for a run that is not cancelled to complete (a turn takes about 2 s here).
    await service.add(name, { schedule: { every: '5s' }, prompt, overlap: 'cancelOther' });
    const runs = await eventually('a run cancelled and a later one completed', async () => {
      const list = await service.runs(name, { limit: 100 });
      return list.some((run) => run.status === 'cancelled') && list.some((run) => run.status === 'completed') ? list : undefined;
    });
    await service.pause(name);
    // Runs come newest first. The first run is the one whose turn hangs; on a loaded machine a
    // later run's turn can outlast 5 s too and be cancelled as well, so name the oldest.
    const cancelledRuns = runs.filter((run) => run.status === 'cancelled');
    const hangingRun = cancelledRuns.at(-1)!;
    replayable.push(hangingRun.workflowId);
    for (const run of cancelledRuns) assert.equal(run.outcome, 'cancelled');
    const events = await durableEvents(gateway, `agent:main:cron:${name}`);
    const reasons = events.filter((event) => event.type === 'turn.cancelled').map((event) => String(event.data.reason));
    assert.ok(
      reasons.some((reason) => reason.includes(`cron run ${hangingRun.workflowId} was cancelled`)),
      `the hanging turn was cancelled with its run named; reasons: ${JSON.stringify(reasons)}`,
    );
  });
});

describe('delivery', () => {
  test('a run POSTs its result to deliver.url, signed with Standard Webhooks headers', async () => {
    const name = newJob('deliver');
    const prompt = `delivered run of ${name}`;
    await service.add(name, { schedule: { cron: '0 0 1 1 *' }, prompt, paused: true, deliver: { url: receiverUrl } });
    const run = await triggerAndWait(name);
    assert.equal(run.status, 'completed');
    replayable.push(run.workflowId);
    const delivery = await eventually('delivered', () => received.find((r) => r.body.includes(prompt)));
    const id = String(delivery.headers['webhook-id']);
    const timestamp = String(delivery.headers['webhook-timestamp']);
    assert.equal(id, run.workflowId, 'the webhook id is the run, the same on every attempt');
    const expected = createHmac('sha256', DELIVER_KEY).update(`${id}.${timestamp}.${delivery.body}`).digest('base64');
    assert.ok(String(delivery.headers['webhook-signature']).split(' ').includes(`v1,${expected}`), 'signature verifies');
    const body = JSON.parse(delivery.body);
    assert.equal(body.type, 'cron.run');
    assert.equal(body.job, name);
    assert.equal(body.status, 'completed');
    assert.equal(body.result, `echo: ${prompt}`);
    assert.equal(body.sessionKey, `agent:main:cron:${name}`);
  });
});

describe('determinism', () => {
  test('the runs above (retried send, timeout, cancellation, delivery) replay against the workflow code', async () => {
    assert.equal(replayable.length, 4);
    for (const workflowId of replayable) {
      const history = await gateway.client.workflow.getHandle(workflowId).fetchHistory();
      await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, workflowId);
    }
  });
});
