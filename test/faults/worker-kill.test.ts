// Fault test 1 (issue 9): messages in flight through webhooks while the worker is SIGKILLed
// twice and restarted by the supervisor. Every accepted message is answered exactly once:
// one turn.completed per message in the session histories, with the answer to its own text.
// The fake API's log shows which turns ran again after a kill (at-least-once underneath).
//
// SWITCHYARD_FAULT_MESSAGES sets the count (default 200, as the issue asks).
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { startFakeAnthropic, type FakeAnthropic } from '../support/fake-anthropic.js';
import { postJson } from '../support/gateway.js';
import { eventually } from '../support/sessions.js';
import { startSwitchyard, WORKER, type StartedGateway } from '../support/started-gateway.js';
import { allEvents, assertAnsweredExactlyOnce, messageCount, pool, recordFigures } from './support.js';

const MESSAGES = messageCount(200);
const SESSIONS = 20;

let fake: FakeAnthropic;
let gateway: StartedGateway;

before(async () => {
  fake = await startFakeAnthropic();
  gateway = await startSwitchyard({ fake, label: 'fault-worker' });
});
after(async () => {
  await gateway?.stop();
  await fake?.close();
});

test(`${MESSAGES} messages through webhooks, the worker SIGKILLed twice: each answered exactly once`, async () => {
  const run = Date.now().toString(36);
  const sessionKeys = Array.from({ length: SESSIONS }, (_, i) => `agent:main:fault-worker-${run}-${i}`);
  const messages = Array.from({ length: MESSAGES }, (_, i) => ({ sessionKey: sessionKeys[i % SESSIONS]!, text: `fw-${run}-${i}` }));
  // Answers take a moment, so that kills land on turns in flight.
  fake.setDefault((req) => ({ kind: 'text', text: `echo: ${req.prompt ?? ''}`, chunks: 3, delayMs: 150 }));

  const started = Date.now();
  const accepted = new Map<string, Map<string, string>>(sessionKeys.map((key) => [key, new Map()]));
  const sending = pool(messages, 16, async ({ sessionKey, text }) => {
    const res = await postJson(`${gateway.api}/hooks/agent`, { message: text, sessionKey, idempotencyKey: text });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    accepted.get(sessionKey)!.set(res.body.messageId, text);
  });

  const completed = async () => {
    let total = 0;
    for (const key of sessionKeys) total += await gateway.sessions.state(key).then((s) => s.turnCount, () => 0);
    return total;
  };
  const kills: Array<{ atCompleted: number; afterMs: number }> = [];
  for (const fraction of [0.2, 0.5]) {
    const target = Math.floor(MESSAGES * fraction);
    await eventually(`${target} turns completed`, async () => (await completed()) >= target, 900_000);
    // Only kill while turns are running, so the kill interrupts something.
    await eventually('a turn in flight', () => fake.requests.some((r) => r.main && Date.now() - r.at < 2000), 60_000);
    kills.push({ atCompleted: await completed(), afterMs: Date.now() - started });
    await gateway.killChild(WORKER);
  }
  await sending;
  const acceptedAfterMs = Date.now() - started;

  await eventually('every message answered', async () => (await completed()) >= MESSAGES, 1_800_000);
  // Give a retried turn that might answer twice the time to show itself.
  await sleep(3000);
  const drainedAfterMs = Date.now() - started;

  for (const key of sessionKeys) assertAnsweredExactlyOnce(key, await allEvents(gateway.sessions, key), accepted.get(key)!);

  const calls = new Map<string, number>();
  for (const request of fake.mainRequests()) {
    const prompt = request.prompt ?? '';
    const text = messages.find((m) => prompt.endsWith(m.text))?.text;
    if (text) calls.set(text, (calls.get(text) ?? 0) + 1);
  }
  for (const { text } of messages) assert.ok((calls.get(text) ?? 0) >= 1, `${text} reached the API`);
  const ranAgain = [...calls.values()].filter((count) => count > 1).length;
  recordFigures('worker-kill', {
    messages: MESSAGES,
    sessions: SESSIONS,
    kills,
    acceptedAfterMs,
    drainedAfterMs,
    turnsRunAgainAfterAKill: ranAgain,
    apiCalls: fake.mainRequests().length,
  });
});
