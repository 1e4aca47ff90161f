// One request id through a turn's log lines: the API's (fastify's request lines and
// "message accepted"), the session workflow's and the turn activity's, for a webhook (the
// HTTP request id, from X-Request-Id) and for an RPC call (rpc:<connection>:<id>).
import { apiLogger, logLines, type LogLine } from './support/capture-logs.js';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { RpcClient } from '../client/rpc-client.js';
import { startFakeAnthropic, type FakeAnthropic } from './support/fake-anthropic.js';
import { startTestGateway, uniqueScope, type TestGateway } from './support/gateway.js';
import { eventually, outcomeOf, sendMessage } from './support/sessions.js';

let fake: FakeAnthropic;
let gateway: TestGateway;

before(async () => {
  fake = await startFakeAnthropic();
  gateway = await startTestGateway({ fake, logger: apiLogger, config: { log: { level: 'info' } } });
});
after(async () => {
  await gateway?.close();
  await fake?.close();
});

const withRequestId = (requestId: string) => logLines.filter((line) => line.requestId === requestId);
const describeLines = (lines: LogLine[]) => lines.map((line) => `${line.name}/${String(line.sdkComponent ?? '-')}: ${line.msg}`).join('\n');

async function assertCarried(requestId: string, apiMessages: string[]): Promise<void> {
  const lines = await eventually(`the workflow's and the activity's lines with ${requestId}`, () => {
    const found = withRequestId(requestId);
    const has = (component: string, msg: string) => found.some((line) => line.name === 'worker' && line.sdkComponent === component && line.msg === msg);
    return has('workflow', 'turn started') && has('workflow', 'turn ended') && has('activity', 'claude process started') && has('activity', 'claude process exited')
      ? found
      : undefined;
  });
  for (const msg of apiMessages) assert.ok(lines.some((line) => line.name === 'api' && line.msg === msg), `API line "${msg}" carries ${requestId}:\n${describeLines(lines)}`);
  const workflowLine = lines.find((line) => line.sdkComponent === 'workflow' && line.msg === 'turn started')!;
  assert.equal(typeof workflowLine.workflowId, 'string', 'workflow lines carry the workflow id');
  const activityLine = lines.find((line) => line.sdkComponent === 'activity' && line.msg === 'claude process started')!;
  assert.equal(activityLine.activityType, 'runAgentTurn');
  assert.equal(activityLine.sessionKey, workflowLine.sessionKey);
}

test('a webhook: the X-Request-Id of the HTTP request reaches the workflow and the activity', async () => {
  const requestId = `req-${uniqueScope('hook')}`;
  const sessionKey = `agent:main:${uniqueScope('reqid')}`;
  const sent = await sendMessage(gateway, { message: 'request id through a turn', sessionKey }, { 'x-request-id': requestId });
  await outcomeOf(gateway, sessionKey, sent.messageId);
  await assertCarried(requestId, ['incoming request', 'request completed', 'message accepted']);
});

test('an RPC call: its rpc:<connection>:<id> reaches the workflow and the activity', async () => {
  const sessionKey = `agent:main:${uniqueScope('reqid-rpc')}`;
  const rpc = await RpcClient.connect(gateway.rpcUrl);
  try {
    const sent = (await rpc.call('sessions.send', { message: 'rpc request id through a turn', sessionKey })) as { messageId: string };
    await outcomeOf(gateway, sessionKey, sent.messageId);
  } finally {
    await rpc.close();
  }
  const accepted = logLines.find((line) => line.msg === 'message accepted' && line.sessionKey === sessionKey);
  assert.ok(accepted, 'the API logged the accepted message');
  assert.match(String(accepted.requestId), /^rpc:[^:]+:.+$/);
  await assertCarried(String(accepted.requestId), ['message accepted']);
});
