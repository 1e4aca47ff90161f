// Continue-as-new, forced by a low turn limit, keeps the inbox, the dedupe keys, the event
// log and the Claude session.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startFakeAnthropic, type FakeAnthropic } from './support/fake-anthropic.js';
import { startTestGateway, uniqueScope, type TestGateway } from './support/gateway.js';
import { durableEvents, eventually, outcomeOf, sendMessage } from './support/sessions.js';

let fake: FakeAnthropic;
let gateway: TestGateway;
before(async () => {
  fake = await startFakeAnthropic();
  gateway = await startTestGateway({ fake, config: { worker: { maxTurnsPerRun: 2 } } });
});
after(async () => {
  await gateway?.close();
  await fake?.close();
});

test('a session continues as new without losing messages, keys, events or context', async () => {
  const sessionKey = `agent:main:${uniqueScope('can')}`;
  fake.enqueueFor('can-0', { kind: 'text', text: 'slow first answer', delayMs: 1500 });
  const sent = [await sendMessage(gateway, { message: 'can-0 remember ORANGE', sessionKey, idempotencyKey: 'can-key-0' })];
  await eventually('first turn running', async () => (await gateway.api.sessions.state(sessionKey)).status === 'running');
  // Queued while the first turn runs: the run ends after two turns with these still waiting.
  for (const n of [1, 2, 3, 4]) sent.push(await sendMessage(gateway, { message: `can-${n}`, sessionKey, idempotencyKey: `can-key-${n}` }));

  const outcomes = [];
  for (const message of sent) outcomes.push(await outcomeOf(gateway, sessionKey, message.messageId));
  assert.deepEqual(outcomes.map((o) => o.type), Array(5).fill('turn.completed'));
  assert.deepEqual(outcomes.map((o) => o.data.result), ['slow first answer', 'echo: can-1', 'echo: can-2', 'echo: can-3', 'echo: can-4']);

  const runs = [];
  for await (const run of gateway.client.workflow.list({ query: `WorkflowId = "session:${sessionKey}"` })) runs.push(run);
  assert.ok(runs.length >= 3, `expected at least 3 runs, saw ${runs.length}`);

  // The dedupe keys travelled: a key from the first run is still a duplicate.
  const again = await sendMessage(gateway, { message: 'can-0 remember ORANGE', sessionKey, idempotencyKey: 'can-key-0' });
  assert.equal(again.duplicate, true);
  assert.equal(again.messageId, sent[0]!.messageId);

  // The event log travelled, with seq unbroken.
  const events = await durableEvents(gateway, sessionKey);
  assert.deepEqual(events.map((e) => e.seq), events.map((_, i) => i + 1));
  assert.equal(events.filter((e) => e.type === 'turn.completed').length, 5);

  // The Claude session travelled: the last turn resumed it and saw the first exchange.
  const started = events.filter((e) => e.type === 'turn.started');
  assert.equal(new Set(started.map((e) => e.data.claudeSessionId)).size, 1);
  const last = fake.mainRequests().filter((r) => r.prompt?.includes('can-4')).at(-1)!;
  assert.match(JSON.stringify(last.body.messages), /remember ORANGE/);

  const state = await gateway.api.sessions.state(sessionKey);
  assert.equal(state.turnCount, 5);
});
