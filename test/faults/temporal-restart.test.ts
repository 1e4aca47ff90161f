// Fault test 3 (issue 9): the Temporal dev server stopped (SIGTERM, then SIGKILL in a
// second round) and started again on the same database, with a turn running, messages
// waiting in the session's inbox and a schedule firing. Afterwards the session carries on
// from where it was (its history, its Claude session, its inbox answered in order) and the
// schedule keeps firing.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { cronService, removeCronJobs, uniqueJobName } from '../support/cron.js';
import { startFakeAnthropic, type FakeAnthropic } from '../support/fake-anthropic.js';
import { startTestGateway, uniqueScope, type TestGateway } from '../support/gateway.js';
import { OwnTemporal } from '../support/own-temporal.js';
import { durableEvents, eventually, outcomeOf } from '../support/sessions.js';
import { postRaw } from '../support/webhooks.js';
import { assertAnsweredExactlyOnce, recordFigures } from './support.js';

let temporal: OwnTemporal;
let fake: FakeAnthropic;
let gateway: TestGateway;
const jobs: string[] = [];

before(async () => {
  temporal = await OwnTemporal.start('fault-temporal');
  fake = await startFakeAnthropic();
  gateway = await startTestGateway({ fake, temporalAddress: temporal.address });
});
after(async () => {
  if (gateway && temporal?.running) await removeCronJobs(gateway.client, jobs).catch(() => undefined);
  await gateway?.close();
  await temporal?.dispose();
  await fake?.close();
});

/** POST /hooks/agent, sent again until Temporal takes it (503 while it is down). */
async function send(sessionKey: string, message: string): Promise<string> {
  return eventually(`${message} accepted`, async () => {
    const res = await postRaw(`${gateway.url}/hooks/agent`, JSON.stringify({ message, sessionKey, idempotencyKey: message }), { 'content-type': 'application/json' });
    return res.status === 202 ? (res.body.messageId as string) : undefined;
  }, 300_000);
}

test('sessions, inboxes and schedules continue after Temporal is stopped and started on the same database', async () => {
  const sessionKey = `agent:main:${uniqueScope('fault-temporal')}`;
  const service = cronService(gateway);
  const job = uniqueJobName('fault-temporal');
  jobs.push(job);
  await service.add(job, { schedule: { every: '3s' }, prompt: `tick of ${job}`, overlap: 'allowAll' });
  await eventually('the schedule fired', async () => ((await service.get(job)).info?.actionCount ?? 0) >= 1);

  const accepted = new Map<string, string>();
  const first = await send(sessionKey, 'tr-0');
  accepted.set(first, 'tr-0');
  await outcomeOf(gateway, sessionKey, first);
  const claudeSessionBefore = (await gateway.api.sessions.state(sessionKey)).claudeSessionId;
  const outages: Array<{ how: string; downMs: number }> = [];

  for (const [round, how] of (['SIGTERM', 'SIGKILL'] as const).entries()) {
    // A turn in flight (a slow answer) and three messages behind it in the inbox.
    const slow = `tr-${round}-slow`;
    fake.enqueueFor(slow, { kind: 'text', text: `echo: ${slow}`, chunks: 5, delayMs: 1500 });
    const ids = [slow, ...[1, 2, 3].map((n) => `tr-${round}-${n}`)];
    for (const text of ids) accepted.set(await send(sessionKey, text), text);
    await eventually('the slow turn reached the API', () => fake.mainRequests().some((r) => r.prompt === slow));
    // Right after a restart a call may still fail once (the connection comes back): ask again.
    const ticksBefore = await eventually('the schedule', async () => (await service.get(job)).info?.actionCount ?? 0);

    const down = Date.now();
    await temporal.stop(how);
    await sleep(5000);
    await temporal.start();
    outages.push({ how, downMs: Date.now() - down });

    for (const [messageId] of [...accepted].filter(([, text]) => ids.includes(text))) await outcomeOf(gateway, sessionKey, messageId);
    await eventually('the schedule fires again', async () => ((await service.get(job)).info?.actionCount ?? 0) > ticksBefore, 120_000);
  }

  const events = await durableEvents(gateway, sessionKey);
  assertAnsweredExactlyOnce(sessionKey, events, accepted);
  const completedOrder = events.filter((e) => e.type === 'turn.completed').map((e) => accepted.get(e.turnId ?? ''));
  assert.deepEqual(completedOrder, [...accepted.values()], 'answered in the order they were sent');
  assert.deepEqual(events.map((e) => e.seq), events.map((_, i) => i + 1), 'one unbroken history');
  const state = await gateway.api.sessions.state(sessionKey);
  assert.equal(state.turnCount, accepted.size);
  assert.equal(state.claudeSessionId, claudeSessionBefore, 'the same Claude session');
  await service.pause(job, 'test done');
  recordFigures('temporal-restart', { outages, turns: accepted.size, scheduleRuns: (await service.get(job)).info?.actionCount });
});
