// The no-gap, no-duplicate rule of sessions.subscribe, with a scripted event log in place of
// the workflow and the real EventHub: replay with live events racing it, a lost publish, a
// reordered one, live-only events, the bounded window, a failing read, and `*`.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DurableSessionEvent, SessionEvent } from '../contracts/events.js';
import { EventHub } from '../api/event-hub.js';
import { SessionSubscription, type GapParams, type SessionEventParams } from '../api/rpc/subscription.js';
import type { EventsPage, EventsRequest } from '../workflows/session-definitions.js';

const KEY = 'agent:main:unit';

/** The workflow's event log, as the events query reads it. */
class FakeLog {
  events: DurableSessionEvent[] = [];
  firstSeq = 1;
  reads = 0;
  /** When set, reads wait for it. */
  gate: Promise<void> | undefined;
  failNext = false;

  record(seq: number, sessionKey = KEY): DurableSessionEvent {
    const event: DurableSessionEvent = { sessionKey, seq, turnId: `t${seq}`, type: 'turn.queued', data: { n: seq }, ts: seq };
    this.events.push(event);
    return event;
  }

  source = async (_sessionKey: string, request: EventsRequest): Promise<EventsPage> => {
    this.reads += 1;
    await this.gate;
    if (this.failNext) {
      this.failNext = false;
      throw new Error('Temporal is away');
    }
    const held = this.events.filter((event) => event.seq >= this.firstSeq);
    return {
      events: held.filter((event) => event.seq > (request.afterSeq ?? 0)).slice(0, request.limit ?? 100),
      lastSeq: this.events.at(-1)?.seq ?? 0,
      firstSeq: held[0]?.seq ?? this.firstSeq,
    };
  };
}

function live(type: 'turn.delta' | 'turn.tool', text: string, sessionKey = KEY): SessionEvent {
  return { sessionKey, turnId: 't', type, data: { text }, ts: 0 };
}

function harness(log: FakeLog, options: { sessionKey?: string; afterSeq?: number; agent?: string } = {}) {
  const hub = new EventHub();
  const delivered: SessionEventParams[] = [];
  const gaps: GapParams[] = [];
  let overflowed = false;
  const subscription = new SessionSubscription(
    hub,
    log.source,
    { event: (event) => delivered.push(event), gap: (gap) => gaps.push(gap), overflow: () => (overflowed = true) },
    { id: 'sub-1', sessionKey: options.sessionKey ?? KEY, ...options },
  );
  const seqs = () => delivered.filter((event) => event.seq !== undefined).map((event) => event.seq);
  const settled = async () => {
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
  };
  return { hub, subscription, delivered, gaps, seqs, settled, overflowed: () => overflowed };
}

describe('sessions.subscribe: replay, then live', () => {
  test('live events racing the replay are held, deduplicated and delivered after it, in order', async () => {
    const log = new FakeLog();
    for (let seq = 1; seq <= 5; seq++) log.record(seq);
    let open!: () => void;
    log.gate = new Promise((resolve) => (open = resolve));
    const { hub, subscription, seqs, delivered, settled } = harness(log, { afterSeq: 2 });

    const primed = subscription.prime();
    // While the workflow is being read: a duplicate of an event it holds, a new one, a delta.
    hub.publish([log.events[4]!]);
    hub.publish([log.record(6)]);
    hub.publish([live('turn.delta', 'hello')]);
    open();
    assert.deepEqual(await primed, { replayed: 4, lastSeq: 6 });
    assert.equal(delivered.length, 0, 'nothing is sent before start()');

    subscription.start();
    await settled();
    assert.deepEqual(seqs(), [3, 4, 5, 6]);
    assert.equal(delivered.at(-1)!.type, 'turn.delta');
    assert.equal(delivered.at(-1)!.subscription, 'sub-1');

    hub.publish([log.record(7), live('turn.tool', 'call')]);
    await settled();
    assert.deepEqual(seqs(), [3, 4, 5, 6, 7]);
    assert.equal(delivered.at(-1)!.type, 'turn.tool');
    subscription.close();
    assert.equal(hub.listenerCount, 0);
  });

  test('a lost publish is read back from the workflow before the next event is delivered', async () => {
    const log = new FakeLog();
    const { hub, subscription, seqs, settled, gaps } = harness(log, { afterSeq: 0 });
    await subscription.prime();
    subscription.start();
    hub.publish([log.record(1)]);
    log.record(2); // recorded, never published
    hub.publish([log.record(3)]);
    await settled();
    assert.deepEqual(seqs(), [1, 2, 3]);
    assert.deepEqual(gaps, []);
  });

  test('a reordered publish: the gap is filled, the late event dropped', async () => {
    const log = new FakeLog();
    const { hub, subscription, seqs, settled } = harness(log, { afterSeq: 0 });
    await subscription.prime();
    subscription.start();
    const [one, two, three] = [log.record(1), log.record(2), log.record(3)];
    hub.publish([one, three]);
    await settled();
    hub.publish([two]);
    hub.publish([three]);
    await settled();
    assert.deepEqual(seqs(), [1, 2, 3]);
  });

  test('events that left the bounded window are reported once as a gap, then delivery goes on', async () => {
    const log = new FakeLog();
    for (let seq = 1; seq <= 10; seq++) log.record(seq);
    log.firstSeq = 6;
    const { hub, subscription, seqs, settled, gaps } = harness(log, { afterSeq: 2 });
    assert.deepEqual(await subscription.prime(), { replayed: 5, lastSeq: 10 });
    subscription.start();
    await settled();
    assert.deepEqual(seqs(), [6, 7, 8, 9, 10]);
    assert.equal(gaps.length, 1);
    assert.deepEqual({ afterSeq: gaps[0]!.afterSeq, beforeSeq: gaps[0]!.beforeSeq }, { afterSeq: 2, beforeSeq: 6 });
    hub.publish([log.record(11)]);
    await settled();
    assert.deepEqual(seqs(), [6, 7, 8, 9, 10, 11]);
  });

  test('a failed read during a fill is reported as a gap; later events still flow', async () => {
    const log = new FakeLog();
    const { hub, subscription, seqs, settled, gaps } = harness(log, { afterSeq: 0 });
    await subscription.prime();
    subscription.start();
    hub.publish([log.record(1)]);
    log.record(2);
    log.failNext = true;
    hub.publish([log.record(3)]);
    await settled();
    assert.deepEqual(seqs(), [1, 3]);
    assert.equal(gaps.length, 1);
    assert.match(gaps[0]!.reason, /could not be read: Temporal is away/);
    hub.publish([log.record(4)]);
    await settled();
    assert.deepEqual(seqs(), [1, 3, 4]);
  });

  test('without afterSeq: nothing is read up front; the first durable event starts the rule', async () => {
    const log = new FakeLog();
    for (let seq = 1; seq <= 3; seq++) log.record(seq);
    const { hub, subscription, seqs, settled } = harness(log);
    assert.deepEqual(await subscription.prime(), { replayed: 0 });
    assert.equal(log.reads, 0);
    subscription.start();
    hub.publish([log.record(4)]);
    log.record(5);
    hub.publish([log.record(6)]);
    await settled();
    assert.deepEqual(seqs(), [4, 5, 6]);
  });

  test('a session that does not exist yet replays nothing', async () => {
    const { WorkflowNotFoundError } = await import('@temporalio/client');
    const hub = new EventHub();
    const subscription = new SessionSubscription(
      hub,
      async () => {
        throw new WorkflowNotFoundError('workflow not found', 'session:x', undefined);
      },
      { event: () => undefined, gap: () => undefined, overflow: () => undefined },
      { id: 's', sessionKey: KEY, afterSeq: 0 },
    );
    assert.deepEqual(await subscription.prime(), { replayed: 0, lastSeq: 0 });
    subscription.close();
  });

  test('a read that fails while priming rejects and listens to nothing', async () => {
    const log = new FakeLog();
    log.failNext = true;
    const { hub, subscription } = harness(log, { afterSeq: 0 });
    await assert.rejects(subscription.prime(), /Temporal is away/);
    assert.equal(hub.listenerCount, 0);
  });

  test('"*" passes every session\'s events through, narrowed by agent', async () => {
    const log = new FakeLog();
    const { hub, subscription, delivered, settled } = harness(log, { sessionKey: '*', agent: 'main' });
    await subscription.prime();
    subscription.start();
    hub.publish([
      { ...log.record(1, 'agent:main:a') },
      { ...log.record(1, 'agent:other:b') },
      live('turn.delta', 'x', 'agent:main:c'),
      { ...log.record(1, 'agent:main:a') },
    ]);
    await settled();
    assert.deepEqual(
      delivered.map((event) => event.sessionKey),
      ['agent:main:a', 'agent:main:c', 'agent:main:a'],
    );
    assert.equal(log.reads, 0);
  });
});
