// A webhook while Temporal is down: 503 with Retry-After and nothing half-accepted; the
// sender's retry of the same delivery after Temporal returns is accepted and runs once.
// Runs against a dev server this test owns (stopped, then started on the same database).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startFakeAnthropic, type FakeAnthropic } from './support/fake-anthropic.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';
import { durableEvents, eventually, outcomeOf } from './support/sessions.js';
import { postRaw, sign, STANDARD_SECRET } from './support/webhooks.js';
import { OwnTemporal } from './support/own-temporal.js';

let temporal: OwnTemporal;
let fake: FakeAnthropic;
let gateway: TestGateway;

before(async () => {
  temporal = await OwnTemporal.start('webhooks-outage');
  fake = await startFakeAnthropic();
  gateway = await startTestGateway({
    fake,
    temporalAddress: temporal.address,
    config: { webhooks: { events: { verify: { type: 'standard-webhooks', secret: STANDARD_SECRET }, session: '{{body.session}}', prompt: '{{body.marker}}' } } },
  });
});
after(async () => {
  await gateway?.close();
  await temporal?.dispose();
  await fake?.close();
});

const post = (body: string, id: string) => postRaw(`${gateway.url}/hooks/events`, body, sign.standardWebhooks(body, { secret: STANDARD_SECRET, id }).headers);

test('503 while Temporal is down, nothing accepted; the retried delivery is accepted once it is back', async () => {
  const before = JSON.stringify({ session: 'outage', marker: 'before the outage' });
  const first = await post(before, 'msg_before');
  assert.equal(first.status, 202);
  await outcomeOf(gateway, 'agent:main:outage', first.body.messageId);

  await temporal.stop();
  const during = JSON.stringify({ session: 'outage-new', marker: 'during the outage' });
  const refused = await post(during, 'msg_during');
  assert.equal(refused.status, 503);
  assert.equal(refused.body.error.code, 'temporal_unavailable');
  assert.ok(Number(refused.headers.get('retry-after')) >= 1);
  const refusedExisting = await post(JSON.stringify({ session: 'outage', marker: 'during, existing session' }), 'msg_during_2');
  assert.equal(refusedExisting.status, 503);

  await temporal.start();
  // The sender retries the same delivery (same webhook-id, signed afresh).
  const retried = await eventually('accepted after the outage', async () => {
    const res = await post(during, 'msg_during');
    return res.status === 202 ? res : undefined;
  });
  assert.equal(retried.body.sessionKey, 'agent:main:outage-new');
  const outcome = await outcomeOf(gateway, 'agent:main:outage-new', retried.body.messageId);
  assert.equal(outcome.data.result, 'echo: during the outage');
  const events = await durableEvents(gateway, 'agent:main:outage-new');
  assert.equal(events.filter((e) => e.type === 'turn.queued').length, 1, 'the refused attempt left nothing behind');
  assert.equal(fake.mainRequests().filter((r) => r.prompt === 'during the outage').length, 1);
  const old = await durableEvents(gateway, 'agent:main:outage');
  assert.equal(old.filter((e) => e.type === 'turn.queued').length, 1, 'the refused message to the existing session was not queued');
});
