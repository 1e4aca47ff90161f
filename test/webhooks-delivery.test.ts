// Outbound delivery of turn results: signed with Standard Webhooks headers, retried until a
// receiver that was down comes back, delivered once, and no secret in Temporal's history.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import { SessionService } from '../api/session-service.js';
import { startFakeAnthropic, type FakeAnthropic } from './support/fake-anthropic.js';
import { postJson, startTestGateway, uniqueScope, type TestGateway } from './support/gateway.js';
import { freePort } from './support/processes.js';
import { eventually, outcomeOf } from './support/sessions.js';
import { DeliveryReceiver, postRaw, STANDARD_SECRET, type ReceivedDelivery } from './support/webhooks.js';

const DELIVER_SECRET = `whsec_${Buffer.from('the gateway delivery secret key!').toString('base64')}`;
const SOURCE_TOKEN = 'inbound-token-for-results';

let fake: FakeAnthropic;
let gateway: TestGateway;
let receiver: DeliveryReceiver;

before(async () => {
  fake = await startFakeAnthropic();
  receiver = new DeliveryReceiver(await freePort());
  gateway = await startTestGateway({
    fake,
    config: {
      gateway: { deliverSecret: DELIVER_SECRET },
      webhooks: {
        results: {
          verify: { type: 'bearer', header: 'X-Token', secret: SOURCE_TOKEN },
          session: '{{body.session}}',
          prompt: '{{body.marker}}',
          deliver: { url: receiver.url, secret: STANDARD_SECRET },
        },
      },
    },
  });
});
after(async () => {
  await receiver?.close();
  await gateway?.close();
  await fake?.close();
});

/** Checks a delivery the way a receiver should, from the Standard Webhooks spec, with node:crypto. */
function assertSigned(delivery: ReceivedDelivery, secret: string): void {
  const id = String(delivery.headers['webhook-id']);
  const timestamp = String(delivery.headers['webhook-timestamp']);
  const signatures = String(delivery.headers['webhook-signature']).split(' ');
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const expected = `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${delivery.body}`).digest('base64')}`;
  assert.ok(signatures.includes(expected), 'a valid v1 signature');
  assert.ok(Math.abs(Date.now() / 1000 - Number(timestamp)) < 300, 'a fresh timestamp');
  assert.match(String(delivery.headers['content-type']), /application\/json/);
}

/** Every string and payload byte in a workflow's history, decoded, for searching. */
async function historyText(handle: WorkflowHandle): Promise<string> {
  const history = await handle.fetchHistory();
  const parts: string[] = [];
  const walk = (value: unknown, depth: number) => {
    if (depth > 40 || value === null || value === undefined) return;
    if (value instanceof Uint8Array) parts.push(Buffer.from(value).toString('utf8'));
    else if (typeof value === 'string') parts.push(value);
    else if (Array.isArray(value)) for (const item of value) walk(item, depth + 1);
    else if (typeof value === 'object') for (const item of Object.values(value)) walk(item, depth + 1);
  };
  walk(history, 0);
  return parts.join('\n');
}

const pendingDeliveries = async (workflowId: string) =>
  ((await gateway.client.workflow.getHandle(workflowId).describe()).raw.pendingActivities ?? []).filter((a) => a.activityType?.name === 'deliverResult');

const forSession = (sessionKey: string) => receiver.received.filter((d) => JSON.parse(d.body).sessionKey === sessionKey);

describe('result delivery', () => {
  test('a receiver that is down gets the result once when it comes up, signed', async () => {
    const marker = uniqueScope('late');
    const sessionKey = `agent:main:dlv-${marker}`;
    const sent = await postRaw(`${gateway.url}/hooks/results`, JSON.stringify({ session: `dlv-${marker}`, marker }), {
      'x-token': SOURCE_TOKEN,
      'content-type': 'application/json',
      'idempotency-key': `upstream-${marker}`,
    });
    assert.equal(sent.status, 202, JSON.stringify(sent.body));
    const outcome = await outcomeOf(gateway, sessionKey, sent.body.messageId);
    assert.equal(outcome.type, 'turn.completed');

    // The receiver is down: attempts fail and are retried.
    await eventually('a failed delivery attempt', async () => (await pendingDeliveries(sent.body.workflowId)).some((a) => (a.attempt ?? 0) >= 2));
    assert.equal(receiver.received.length, 0);

    await receiver.start();
    const [delivery] = await eventually('the delivery', () => {
      const got = forSession(sessionKey);
      return got.length > 0 ? got : undefined;
    });
    await eventually('no delivery pending', async () => (await pendingDeliveries(sent.body.workflowId)).length === 0);
    assert.equal(forSession(sessionKey).length, 1, 'delivered exactly once');

    assertSigned(delivery!, STANDARD_SECRET);
    assert.match(String(delivery!.headers['webhook-id']), /^dlv_[0-9a-f-]+_0$/);
    const payload = JSON.parse(delivery!.body);
    assert.equal(payload.type, 'turn.completed');
    assert.equal(payload.status, 'completed');
    assert.equal(payload.sessionKey, sessionKey);
    assert.equal(payload.workflowId, `session:${sessionKey}`);
    assert.equal(payload.turnId, sent.body.messageId);
    assert.equal(payload.result, `echo: ${marker}`);
    assert.deepEqual(payload.messageIds, [sent.body.messageId]);
    assert.deepEqual(payload.messages, [{ messageId: sent.body.messageId, idempotencyKey: `hook:results:upstream-${marker}`, source: 'hook:results' }]);
    assert.equal(typeof payload.seq, 'number');

    // No secret in Temporal: the message carried only the source's name.
    const text = await historyText(gateway.client.workflow.getHandle(sent.body.workflowId));
    assert.match(text, /"source":"results"/);
    for (const secret of [STANDARD_SECRET, STANDARD_SECRET.slice('whsec_'.length), DELIVER_SECRET, SOURCE_TOKEN]) assert.ok(!text.includes(secret), 'no secret in history');
  });

  test('/hooks/agent with deliver.url: the result is POSTed, signed with gateway.deliverSecret; failures are delivered too', async () => {
    await receiver.start();
    const marker = uniqueScope('agent');
    const sessionKey = `agent:main:${marker}`;
    const ok = await postJson(`${gateway.url}/hooks/agent`, { message: marker, sessionKey, deliver: { url: receiver.url } });
    assert.equal(ok.status, 202);
    fake.enqueueFor(`${marker}-fails`, { kind: 'status', status: 401 });
    const failing = await postJson(`${gateway.url}/hooks/agent`, { message: `${marker}-fails`, sessionKey, deliver: { url: receiver.url } });
    assert.equal(failing.status, 202);

    const deliveries = await eventually('both deliveries', () => {
      const got = forSession(sessionKey);
      return got.length >= 2 ? got : undefined;
    });
    for (const delivery of deliveries) assertSigned(delivery, DELIVER_SECRET);
    const byTurn = new Map(deliveries.map((d) => [JSON.parse(d.body).turnId, JSON.parse(d.body)]));
    assert.equal(byTurn.get(ok.body.messageId).type, 'turn.completed');
    assert.equal(byTurn.get(ok.body.messageId).result, `echo: ${marker}`);
    assert.equal(byTurn.get(failing.body.messageId).type, 'turn.failed');
    assert.equal(byTurn.get(failing.body.messageId).errorType, 'AgentAuthenticationError');

    const text = await historyText(gateway.client.workflow.getHandle(ok.body.workflowId));
    assert.ok(text.includes(receiver.url), 'the URL is in the message');
    assert.ok(!text.includes(DELIVER_SECRET) && !text.includes(DELIVER_SECRET.slice('whsec_'.length)), 'the secret is not');
  });

  test('a delivery still being retried survives continue-as-new', async () => {
    await receiver.close();
    const marker = uniqueScope('can');
    const sessionKey = `agent:main:${marker}`;
    // A session whose runs take one turn each: the delivery is pending when the run continues as new.
    const sessions = new SessionService(gateway.client, gateway.api.hub, { maxTurnsPerRun: 1 });
    const sent = await sessions.send({ sessionKey, agentId: 'main', text: marker, source: 'test', busy: 'queue', delivery: { source: 'results' } });
    await outcomeOf(gateway, sessionKey, sent.messageId);
    const handle = gateway.client.workflow.getHandle(sent.workflowId);
    const carried = await eventually('a new run carrying the delivery', async () => {
      const history = await handle.fetchHistory();
      const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
      if (!started?.continuedExecutionRunId) return undefined;
      const input = JSON.parse(Buffer.from(started.input!.payloads![0]!.data!).toString('utf8'));
      return input.carried.deliveries as unknown[] | undefined;
    });
    assert.equal(carried.length, 1);

    await receiver.start();
    await eventually('the delivery', () => forSession(sessionKey).length > 0);
    await eventually('no delivery pending', async () => (await pendingDeliveries(sent.workflowId)).length === 0);
    assert.equal(forSession(sessionKey).length, 1);
    assertSigned(forSession(sessionKey)[0]!, STANDARD_SECRET);
  });

  test('/hooks/agent refuses deliver.url without gateway.deliverSecret, and bad URLs', async () => {
    const bare = await startTestGateway({ fake, worker: false });
    try {
      const res = await postJson(`${bare.url}/hooks/agent`, { message: 'x', deliver: { url: 'http://127.0.0.1:9/x' } });
      assert.equal(res.status, 400);
      assert.equal(res.body.error.details.issues[0].path, 'body.deliver');
    } finally {
      await bare.close();
    }
    const bad = await postJson(`${gateway.url}/hooks/agent`, { message: 'x', deliver: { url: 'file:///etc/passwd' } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.details.issues[0].path, 'body.deliver.url');
  });
});
