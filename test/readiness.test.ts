// /readyz and the API's answers while Temporal is down, against a dev server this test
// owns: stopped, then started again on the same database.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startFakeAnthropic, type FakeAnthropic } from './support/fake-anthropic.js';
import { postJson, startTestGateway, type TestGateway } from './support/gateway.js';
import { eventually, outcomeOf } from './support/sessions.js';
import { OwnTemporal } from './support/own-temporal.js';

let temporal: OwnTemporal;
let fake: FakeAnthropic;
let gateway: TestGateway;

async function readyz(): Promise<{ status: number; body: { ready: boolean; checks: Record<string, { ok: boolean; detail: string }> } }> {
  const res = await fetch(`${gateway.url}/readyz`);
  return { status: res.status, body: (await res.json()) as never };
}

before(async () => {
  temporal = await OwnTemporal.start('readyz');
  fake = await startFakeAnthropic();
  gateway = await startTestGateway({ fake, temporalAddress: temporal.address, worker: false });
});
after(async () => {
  await gateway?.close();
  await temporal?.dispose();
  await fake?.close();
});

test('not ready without a worker polling both task queues', async () => {
  const { status, body } = await readyz();
  assert.equal(status, 503);
  assert.equal(body.checks.temporal!.ok, true);
  assert.equal(body.checks.worker!.ok, false);
  assert.match(body.checks.worker!.detail, /switchyard/);
});

test('ready once a worker polls; 503 while Temporal is down; ready again when it returns, with the session intact', async () => {
  await gateway.startWorker();
  await eventually('ready', async () => (await readyz()).status === 200);
  const sent = await postJson(`${gateway.url}/hooks/agent`, { message: 'before the outage', sessionKey: 'agent:main:readyz' });
  assert.equal(sent.status, 202);
  await outcomeOf(gateway, 'agent:main:readyz', sent.body.messageId);

  await temporal.stop();
  const down = await readyz();
  assert.equal(down.status, 503);
  assert.equal(down.body.ready, false);
  assert.equal(down.body.checks.temporal!.ok, false);

  // Nothing can be accepted: the caller is told so, with the error shape of every route.
  const refused = await postJson(`${gateway.url}/hooks/agent`, { message: 'during the outage', sessionKey: 'agent:main:readyz' });
  assert.equal(refused.status, 503);
  assert.equal(refused.body.error.code, 'temporal_unavailable');
  assert.ok(refused.body.error.details.idempotencyKey, 'the key to retry with');
  assert.ok(refused.headers.get('retry-after'));
  assert.equal((await fetch(`${gateway.url}/healthz`)).status, 200);

  await temporal.start();
  await eventually('ready again', async () => (await readyz()).status === 200);
  const state = await gateway.api.sessions.state('agent:main:readyz');
  assert.equal(state.turnCount, 1);
  const after = await postJson(`${gateway.url}/hooks/agent`, { message: 'after the outage', sessionKey: 'agent:main:readyz', mode: 'sync' });
  assert.equal(after.status, 200);
  assert.equal(after.body.result, 'echo: after the outage');
});
