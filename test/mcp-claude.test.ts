// `gatewayTools: true` through the real `claude` CLI: the turn is spawned with the
// `switchyard mcp` server in its --mcp-config, the fake API asks for a gateway tool, and the
// call reaches the gateway (its effect: another session runs a turn) and comes back as the
// tool's result in the agent's next request.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startFakeAnthropic, type FakeAnthropic } from './support/fake-anthropic.js';
import { startTestGateway, uniqueScope, type TestGateway } from './support/gateway.js';
import { durableEvents, eventually, outcomeOf, processesMatching, sendMessage } from './support/sessions.js';

let fake: FakeAnthropic;
let gateway: TestGateway;

before(async () => {
  fake = await startFakeAnthropic();
  // No token: the common loopback setup, where the server must not go looking for a config.
  gateway = await startTestGateway({ fake, config: { agents: { main: {}, operator: { gatewayTools: true } } } });
});
after(async () => {
  await gateway?.close();
  await fake?.close();
});

describe('gatewayTools', () => {
  test('an agent with gatewayTools calls sessions_send, and the message reaches the other session', async () => {
    const operatorKey = `agent:operator:${uniqueScope('op')}`;
    const targetKey = `agent:main:${uniqueScope('target')}`;
    const relayed = `relay-${uniqueScope('m')}`;
    fake.enqueueFor('please-relay', {
      kind: 'tool',
      name: 'mcp__switchyard__sessions_send',
      input: { message: relayed, sessionKey: targetKey },
      then: 'relayed it',
    });

    const sent = await sendMessage(gateway, { message: 'please-relay', sessionKey: operatorKey });
    const outcome = await outcomeOf(gateway, operatorKey, sent.messageId);
    assert.equal(outcome.type, 'turn.completed', JSON.stringify(outcome.data));
    assert.equal(outcome.data.result, 'relayed it');

    const calls = fake.mainRequests().filter((request) => request.prompt?.includes('please-relay'));
    const offered = (calls[0]!.body.tools as { name: string }[]).map((tool) => tool.name);
    assert.ok(offered.includes('mcp__switchyard__sessions_send'), `the first request offers the gateway tools: ${offered.join(', ')}`);
    const [result] = calls.flatMap((request) => request.toolResults ?? []);
    assert.ok(result, 'the tool result came back to the model');
    assert.notEqual(result.is_error, true, result.content);
    const answer = JSON.parse(result.content);
    assert.equal(answer.accepted, true);
    assert.equal(answer.sessionKey, targetKey);

    // The effect on the gateway: the other session ran a turn for the relayed message.
    const completed = await eventually('the relayed turn', async () =>
      (await durableEvents(gateway, targetKey)).find((event) => event.type === 'turn.completed'),
    );
    assert.equal(completed.turnId, answer.messageId);
    assert.equal(completed.data.result, `echo: ${relayed}`);

    // The server lived for the turn only.
    await eventually('no switchyard mcp left', () => processesMatching(`mcp --url ${gateway.rpcUrl}`).length === 0);
  });

  test('an agent without gatewayTools is not offered the tools', async () => {
    const sessionKey = `agent:main:${uniqueScope('plain')}`;
    fake.enqueueFor('plain-turn', { kind: 'text', text: 'no tools here' });
    const sent = await sendMessage(gateway, { message: 'plain-turn', sessionKey });
    assert.equal((await outcomeOf(gateway, sessionKey, sent.messageId)).type, 'turn.completed');
    const [call] = fake.mainRequests().filter((request) => request.prompt?.includes('plain-turn'));
    assert.ok(!(call!.body.tools as { name: string }[]).some((tool) => tool.name.startsWith('mcp__switchyard')));
  });
});
