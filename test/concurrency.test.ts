// worker.maxConcurrentTurns caps the Claude CLI processes a worker runs at once.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startFakeAnthropic, type FakeAnthropic } from './support/fake-anthropic.js';
import { startTestGateway, uniqueScope, type TestGateway } from './support/gateway.js';
import { outcomeOf, sendMessage } from './support/sessions.js';

let fake: FakeAnthropic;
let gateway: TestGateway;
before(async () => {
  fake = await startFakeAnthropic();
  gateway = await startTestGateway({ fake, config: { worker: { maxConcurrentTurns: 1 } } });
});
after(async () => {
  await gateway?.close();
  await fake?.close();
});

test('with maxConcurrentTurns 1, turns of different sessions run one after the other', async () => {
  let inFlight = 0;
  let most = 0;
  fake.setDefault(() => {
    inFlight += 1;
    most = Math.max(most, inFlight);
    setTimeout(() => (inFlight -= 1), 1000);
    return { kind: 'text', text: 'done', delayMs: 1000 };
  });
  const sessions = [1, 2, 3].map((n) => `agent:main:${uniqueScope(`cap-${n}`)}`);
  const sent = await Promise.all(sessions.map((sessionKey) => sendMessage(gateway, { message: 'capped', sessionKey })));
  for (const [i, message] of sent.entries()) assert.equal((await outcomeOf(gateway, sessions[i]!, message.messageId)).type, 'turn.completed');
  assert.equal(most, 1);
  assert.equal(fake.mainRequests().length, 3);
});
