// Fault test 2 (issue 9): the API SIGKILLed twice under webhook load. Senders behave like
// real webhook senders: whatever is not answered 2xx (connection refused or reset while
// the API is down, 503) is sent again with the same delivery id, and some deliveries that
// were answered 202 are sent again anyway (a sender that missed the answer). Every delivery
// answered 202 is processed, exactly once: one turn.queued and one turn.completed per
// delivery, and one call to the model per delivery.
//
// SWITCHYARD_FAULT_MESSAGES sets the count (default 200).
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { startFakeAnthropic, type FakeAnthropic } from '../support/fake-anthropic.js';
import { eventually } from '../support/sessions.js';
import { API, startSwitchyard, type StartedGateway } from '../support/started-gateway.js';
import { allEvents, assertAnsweredExactlyOnce, messageCount, pool, recordFigures } from './support.js';

const DELIVERIES = messageCount(200);
const SESSIONS = 20;

let fake: FakeAnthropic;
let gateway: StartedGateway;

before(async () => {
  fake = await startFakeAnthropic();
  gateway = await startSwitchyard({
    fake,
    label: 'fault-api',
    config: {
      webhooks: { load: { verify: 'none', dedupeKey: 'header.x-delivery-id', session: '{{body.session}}', prompt: '{{body.marker}}' } },
    },
  });
});
after(async () => {
  await gateway?.stop();
  await fake?.close();
});

interface Sent {
  deliveryId: string;
  scope: string;
  marker: string;
  attempts: number;
  messageIds: Set<string>;
}

test(`${DELIVERIES} webhook deliveries, the API SIGKILLed twice: every 202 processed once, retries deduplicated`, async () => {
  const run = Date.now().toString(36);
  const scopes = Array.from({ length: SESSIONS }, (_, i) => `fault-api-${run}-${i}`);
  const deliveries: Sent[] = Array.from({ length: DELIVERIES }, (_, i) => ({
    deliveryId: `dlv-${run}-${i}`,
    scope: scopes[i % SESSIONS]!,
    marker: `fa-${run}-${i}`,
    attempts: 0,
    messageIds: new Set(),
  }));

  /** One POST; the answer's message id, or undefined when it was not accepted. */
  const post = async (delivery: Sent): Promise<string | undefined> => {
    delivery.attempts += 1;
    try {
      const res = await fetch(`${gateway.api}/hooks/load`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-delivery-id': delivery.deliveryId },
        body: JSON.stringify({ session: delivery.scope, marker: delivery.marker }),
        signal: AbortSignal.timeout(30_000),
      });
      const body = (await res.json().catch(() => undefined)) as { messageId?: string } | undefined;
      return res.status === 202 && body?.messageId ? body.messageId : undefined;
    } catch {
      return undefined; // refused, reset or timed out: the API is down
    }
  };
  let redelivered = 0;
  const send = async (delivery: Sent, index: number) => {
    for (;;) {
      const messageId = await post(delivery);
      if (messageId) {
        delivery.messageIds.add(messageId);
        break;
      }
      await sleep(250 + Math.random() * 500);
    }
    // Every fourth delivery is sent again although it was accepted.
    if (index % 4 === 0) {
      const again = await eventually('the redelivery accepted', () => post(delivery), 300_000);
      delivery.messageIds.add(again);
      redelivered += 1;
    }
  };

  const started = Date.now();
  const accepted = () => deliveries.filter((d) => d.messageIds.size > 0).length;
  const sending = pool(deliveries, 12, send);
  const kills: Array<{ atAccepted: number; afterMs: number; downMs: number }> = [];
  for (const fraction of [0.25, 0.6]) {
    const target = Math.floor(DELIVERIES * fraction);
    await eventually(`${target} deliveries accepted`, () => accepted() >= target, 600_000);
    const killedAt = Date.now();
    kills.push({ atAccepted: accepted(), afterMs: killedAt - started, downMs: 0 });
    await gateway.killChild(API);
    await eventually('the API answers again', async () => (await fetch(`${gateway.api}/readyz`)).status === 200, 180_000);
    kills.at(-1)!.downMs = Date.now() - killedAt;
  }
  await sending;
  const acceptedAfterMs = Date.now() - started;

  for (const delivery of deliveries) {
    assert.equal(delivery.messageIds.size, 1, `${delivery.deliveryId}: every copy got the same message id (${[...delivery.messageIds].join(', ')})`);
  }
  const bySession = new Map<string, Map<string, string>>(scopes.map((scope) => [`agent:main:${scope}`, new Map()]));
  for (const delivery of deliveries) bySession.get(`agent:main:${delivery.scope}`)!.set([...delivery.messageIds][0]!, delivery.marker);

  const completed = async () => {
    let total = 0;
    for (const key of bySession.keys()) total += await gateway.sessions.state(key).then((s) => s.turnCount, () => 0);
    return total;
  };
  await eventually('every delivery answered', async () => (await completed()) >= DELIVERIES, 1_800_000);
  await sleep(3000);
  const drainedAfterMs = Date.now() - started;

  for (const [key, messages] of bySession) assertAnsweredExactlyOnce(key, await allEvents(gateway.sessions, key), messages);
  const calls = new Map<string, number>();
  for (const request of fake.mainRequests()) calls.set(request.prompt ?? '', (calls.get(request.prompt ?? '') ?? 0) + 1);
  for (const delivery of deliveries) assert.equal(calls.get(delivery.marker), 1, `${delivery.marker}: one call to the model`);

  recordFigures('api-kill', {
    deliveries: DELIVERIES,
    sessions: SESSIONS,
    kills,
    posts: deliveries.reduce((sum, d) => sum + d.attempts, 0),
    retriedAfterNoAnswer: deliveries.filter((d) => d.attempts > (deliveries.indexOf(d) % 4 === 0 ? 2 : 1)).length,
    redeliveredAfter202: redelivered,
    acceptedAfterMs,
    drainedAfterMs,
  });
});
