import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startFakeAnthropic, type FakeAnthropic } from './support/fake-anthropic.js';
import { postJson, startTestGateway, uniqueScope, type TestGateway } from './support/gateway.js';

let fake: FakeAnthropic;
let gateway: TestGateway;
before(async () => {
  fake = await startFakeAnthropic();
  gateway = await startTestGateway({ fake });
});
after(async () => {
  await gateway?.close();
  await fake?.close();
});

test('a first turn answers through /hooks/agent in sync mode', async () => {
  const sessionKey = `agent:main:${uniqueScope('smoke')}`;
  const res = await postJson(`${gateway.url}/hooks/agent`, { message: 'hello there', sessionKey, mode: 'sync', timeoutMs: 60000 });
  console.log(JSON.stringify(res.body, null, 2));
  assert.equal(res.status, 200);
  assert.equal(res.body.status, 'completed');
  assert.equal(res.body.result, 'echo: hello there');
});
