// sessions.* over /rpc, end to end: real Temporal, the real `claude` CLI on the fake API.
// The heart of it: subscribe, lose the connection mid-turn, resume with afterSeq, and get
// every durable event exactly once.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { buildApiServer } from '../api/server.js';
import { ConfigSchema } from '../config/schema.js';
import { createLogger } from '../observability/logger.js';
import { ResumableSubscription, RpcClient, RpcResponseError, type EventStream, type SessionEventMessage } from '../client/rpc-client.js';
import { startFakeAnthropic, type FakeAnthropic } from './support/fake-anthropic.js';
import { startTestGateway, uniqueScope, type TestGateway } from './support/gateway.js';
import { durableEvents, eventually, outcomeOf, sendMessage } from './support/sessions.js';

let fake: FakeAnthropic;
let gateway: TestGateway;
let rpc: RpcClient;

before(async () => {
  fake = await startFakeAnthropic();
  gateway = await startTestGateway({
    fake,
    config: { agents: { main: {}, helper: {} }, gateway: { rpc: { maxSubscriptions: 3 } } },
  });
  rpc = await RpcClient.connect(gateway.rpcUrl);
});
after(async () => {
  await rpc?.close();
  await gateway?.close();
  await fake?.close();
});

const newSession = (agent = 'main') => `agent:${agent}:${uniqueScope('rpc')}`;

async function rpcError(call: Promise<unknown>): Promise<RpcResponseError> {
  try {
    await call;
  } catch (error) {
    assert.ok(error instanceof RpcResponseError, String(error));
    return error;
  }
  assert.fail('the call succeeded');
}

/** Reads a stream until `done` says so (the event that satisfied it included). */
async function readUntil(stream: EventStream, into: SessionEventMessage[], done: (event: SessionEventMessage) => boolean): Promise<void> {
  for (;;) {
    const event = await stream.next();
    assert.ok(event, `the stream ended (${JSON.stringify(stream.closedWith)}) before the expected event`);
    into.push(event);
    if (done(event)) return;
  }
}

const durable = (events: SessionEventMessage[]) => events.filter((event) => event.seq !== undefined).map((event) => ({ seq: event.seq, type: event.type, turnId: event.turnId }));

describe('sessions.send, get, history, list', () => {
  test('send answers once Temporal holds the message; get, history and list follow', async () => {
    const sessionKey = newSession();
    const receipt = await rpc.call('sessions.send', { message: 'rpc-hello', sessionKey, channel: 'ops' });
    assert.deepEqual(Object.keys(receipt).sort(), ['accepted', 'duplicate', 'messageId', 'sessionKey', 'workflowId']);
    assert.equal(receipt.accepted, true);
    assert.equal(receipt.duplicate, false);
    assert.equal(receipt.workflowId, `session:${sessionKey}`);
    const outcome = await outcomeOf(gateway, sessionKey, receipt.messageId);
    assert.equal(outcome.type, 'turn.completed');
    assert.equal(outcome.data.result, 'echo: rpc-hello');

    const state = await rpc.call('sessions.get', { sessionKey });
    assert.equal(state.status, 'idle');
    assert.equal(state.agentId, 'main');
    assert.equal(state.lastSeq, 3);

    const history = await rpc.call('sessions.history', { sessionKey });
    assert.deepEqual(history.events.map((event) => event.type), ['turn.queued', 'turn.started', 'turn.completed']);
    assert.equal(history.more, false);
    assert.equal(history.firstSeq, 1);
    const page = await rpc.call('sessions.history', { sessionKey, afterSeq: 1, limit: 1 });
    assert.deepEqual(page.events.map((event) => event.seq), [2]);
    assert.equal(page.more, true);

    const listed = await eventually('the session is listed', async () =>
      (await rpc.call('sessions.list', { agent: 'main', channel: 'ops', state: 'idle' })).sessions.find((s) => s.sessionKey === sessionKey),
    );
    assert.equal(listed.agentId, 'main');
    assert.equal(listed.channel, 'ops');
    assert.equal(listed.state, 'idle');
    assert.equal(listed.status, 'RUNNING');
    assert.equal(listed.workflowId, `session:${sessionKey}`);
    const other = await rpc.call('sessions.list', { agent: 'helper', limit: 200 });
    assert.ok(!other.sessions.some((s) => s.sessionKey === sessionKey));
    const one = await rpc.call('sessions.list', { limit: 1 });
    assert.equal(one.sessions.length, 1);
  });

  test('without a session key, the agent picks agent:<agent>:main', async () => {
    const receipt = await rpc.call('sessions.send', { message: 'to-helper-main', agent: 'helper', idempotencyKey: uniqueScope('k') });
    assert.equal(receipt.sessionKey, 'agent:helper:main');
    await outcomeOf(gateway, receipt.sessionKey, receipt.messageId);
  });

  test('a duplicate idempotencyKey is acknowledged and never run twice', async () => {
    const sessionKey = newSession();
    const first = await rpc.call('sessions.send', { message: 'dedupe-rpc', sessionKey, idempotencyKey: 'rpc-delivery-1' });
    const again = await rpc.call('sessions.send', { message: 'dedupe-rpc', sessionKey, idempotencyKey: 'rpc-delivery-1' });
    assert.equal(again.duplicate, true);
    assert.equal(again.messageId, first.messageId);
    await outcomeOf(gateway, sessionKey, first.messageId);
    const events = await durableEvents(gateway, sessionKey);
    assert.equal(events.filter((e) => e.type === 'turn.queued').length, 1);
  });

  test('an unknown agent is -32002 with the known agents; a bad session key or agent is -32602 with its path', async () => {
    const ghost = await rpcError(rpc.call('sessions.send', { message: 'x', agent: 'ghost' }));
    assert.equal(ghost.code, -32002);
    assert.deepEqual(ghost.data, { agent: 'ghost', path: ['agent'], knownAgents: ['main', 'helper'] });
    const ghostKey = await rpcError(rpc.call('sessions.send', { message: 'x', sessionKey: 'agent:ghost:x' }));
    assert.equal(ghostKey.code, -32002);
    assert.deepEqual((ghostKey.data as { path: string[] }).path, ['sessionKey']);
    const mismatch = await rpcError(rpc.call('sessions.send', { message: 'x', agent: 'helper', sessionKey: 'agent:main:x' }));
    assert.equal(mismatch.code, -32602);
    assert.deepEqual((mismatch.data as { issues: { path: string[] }[] }).issues[0]!.path, ['agent']);
    const empty = await rpcError(rpc.call('sessions.send', { message: '' }));
    assert.equal(empty.code, -32602);
    assert.deepEqual((empty.data as { issues: { path: string[] }[] }).issues[0]!.path, ['message']);
  });

  test('a session that does not exist: -32001 from get, history, cancel and reset', async () => {
    const sessionKey = newSession();
    // One call at a time: answers that arrive before anyone awaits them are unhandled rejections.
    for (const method of ['sessions.get', 'sessions.history', 'sessions.cancel', 'sessions.reset'] as const) {
      const error = await rpcError(rpc.call(method, { sessionKey }));
      assert.equal(error.code, -32001);
      assert.deepEqual(error.data, { sessionKey });
    }
  });
});

describe('cancel and reset', () => {
  test('cancel ends the running turn with the reason; reset makes the next turn start fresh', async () => {
    const sessionKey = newSession();
    fake.enqueueFor('rpc-cancel-me', { kind: 'hang' });
    const sent = await rpc.call('sessions.send', { message: 'rpc-cancel-me', sessionKey });
    await eventually('the turn is running', async () => (await rpc.call('sessions.get', { sessionKey })).status === 'running');
    assert.deepEqual(await rpc.call('sessions.cancel', { sessionKey, reason: 'stopped over rpc' }), { accepted: true, sessionKey });
    const cancelled = await outcomeOf(gateway, sessionKey, sent.messageId);
    assert.equal(cancelled.type, 'turn.cancelled');
    assert.equal(cancelled.data.reason, 'stopped over rpc');

    const second = await rpc.call('sessions.send', { message: 'rpc-before-reset', sessionKey });
    await outcomeOf(gateway, sessionKey, second.messageId);
    assert.deepEqual(await rpc.call('sessions.reset', { sessionKey }), { accepted: true, sessionKey });
    const third = await rpc.call('sessions.send', { message: 'rpc-after-reset', sessionKey });
    await outcomeOf(gateway, sessionKey, third.messageId);
    const started = (await durableEvents(gateway, sessionKey)).filter((e) => e.type === 'turn.started' && e.turnId !== sent.messageId);
    assert.equal(started.at(-1)!.data.resumed, false);
    assert.notEqual(started.at(-1)!.data.claudeSessionId, started.at(-2)!.data.claudeSessionId);
  });
});

describe('subscriptions', () => {
  test('subscribe, disconnect mid-turn, reconnect with afterSeq: every durable event exactly once', async () => {
    const sessionKey = newSession();
    fake.enqueueFor('rpc-slow-first', { kind: 'text', text: 'one two three four five six', chunks: 6, delayMs: 300 });
    fake.enqueueFor('rpc-slow-second', { kind: 'text', text: 'seven eight nine ten', chunks: 4, delayMs: 300 });

    const first = await RpcClient.connect(gateway.rpcUrl);
    const stream1 = await first.subscribe({ sessionKey, afterSeq: 0 });
    assert.deepEqual(stream1.subscribed, { subscription: stream1.id, sessionKey, replayed: 0, lastSeq: 0 });
    const sent1 = await first.call('sessions.send', { message: 'rpc-slow-first', sessionKey });
    const got1: SessionEventMessage[] = [];
    await readUntil(stream1, got1, (event) => event.type === 'turn.delta');
    assert.deepEqual(durable(got1).map((e) => e.type), ['turn.queued', 'turn.started']);
    assert.ok(got1.every((event) => event.subscription === stream1.id && event.sessionKey === sessionKey));
    // The connection drops mid-turn, without a goodbye.
    first.socket.terminate();
    await first.closed;

    // While nobody listens: the first turn goes on, a second message arrives and its turn starts.
    const sent2 = await sendMessage(gateway, { message: 'rpc-slow-second', sessionKey });
    await eventually('the second turn started', async () =>
      (await durableEvents(gateway, sessionKey)).some((e) => e.type === 'turn.started' && e.turnId === sent2.messageId),
    );

    const afterSeq = stream1.lastSeq!;
    const second = await RpcClient.connect(gateway.rpcUrl);
    const stream2 = await second.subscribe({ sessionKey, afterSeq });
    assert.ok(stream2.subscribed.replayed >= 3, `replayed ${stream2.subscribed.replayed}`);
    const got2: SessionEventMessage[] = [];
    await readUntil(stream2, got2, (event) => event.type === 'turn.completed' && event.turnId === sent2.messageId);
    await second.close();

    const all = [...durable(got1), ...durable(got2)];
    const recorded = (await durableEvents(gateway, sessionKey)).map((e) => ({ seq: e.seq, type: e.type, turnId: e.turnId }));
    assert.deepEqual(all, recorded, 'every durable event once, in order');
    assert.deepEqual(
      all.map((e) => e.type),
      ['turn.queued', 'turn.started', 'turn.queued', 'turn.completed', 'turn.started', 'turn.completed'],
    );
    assert.equal(all.filter((e) => e.type === 'turn.completed' && e.turnId === sent1.messageId).length, 1);
    // Live-only events after the resume still came through.
    assert.ok(got2.some((event) => event.type === 'turn.delta'));
    assert.deepEqual(stream2.gaps, []);
  });

  test('a ResumableSubscription resumes by itself when the server drops it', async () => {
    const sessionKey = newSession();
    fake.enqueueFor('rpc-resume-me', { kind: 'text', text: 'a b c d e', chunks: 5, delayMs: 300 });
    const sent = await sendMessage(gateway, { message: 'rpc-resume-me', sessionKey });
    const reconnectedFrom: (number | undefined)[] = [];
    const resumable = new ResumableSubscription(gateway.rpcUrl, { sessionKey, afterSeq: 0 }, { initialDelayMs: 50, onReconnect: (seq) => reconnectedFrom.push(seq) });
    const events: SessionEventMessage[] = [];
    let dropped = false;
    for await (const event of resumable) {
      events.push(event);
      if (!dropped && event.type === 'turn.started') {
        dropped = true;
        for (const connection of gateway.api.rpc.connections()) {
          if ([...connection.subscriptions.values()].some((s) => s.sessionKey === sessionKey)) connection.terminate();
        }
      }
      if (event.type === 'turn.completed' && event.turnId === sent.messageId) break;
    }
    assert.equal(resumable.reconnects >= 1, true);
    assert.deepEqual(reconnectedFrom.slice(0, 1), [2]);
    assert.deepEqual(
      durable(events).map((e) => [e.seq, e.type]),
      [
        [1, 'turn.queued'],
        [2, 'turn.started'],
        [3, 'turn.completed'],
      ],
    );
    await resumable.close();
  });

  test('"*" streams every session\'s events live, narrowed by agent', async () => {
    const client = await RpcClient.connect(gateway.rpcUrl);
    const stream = await client.subscribe({ sessionKey: '*', agent: 'helper' });
    assert.deepEqual(stream.subscribed, { subscription: stream.id, sessionKey: '*', replayed: 0 });
    const helperKey = newSession('helper');
    await sendMessage(gateway, { message: 'rpc-star-main', sessionKey: newSession('main') });
    const sent = await sendMessage(gateway, { message: 'rpc-star-helper', sessionKey: helperKey });
    const got: SessionEventMessage[] = [];
    await readUntil(stream, got, (event) => event.type === 'turn.completed' && event.turnId === sent.messageId);
    assert.ok(got.every((event) => event.sessionKey.startsWith('agent:helper:')), JSON.stringify(got.map((e) => e.sessionKey)));
    assert.ok(got.some((event) => event.sessionKey === helperKey && event.type === 'turn.delta'));
    await client.close();
  });

  test('subscribe and unsubscribe errors; unsubscribing stops the events', async () => {
    const client = await RpcClient.connect(gateway.rpcUrl);
    const star = await rpcError(client.call('sessions.subscribe', { sessionKey: '*', afterSeq: 0 }));
    assert.equal(star.code, -32602);
    assert.deepEqual((star.data as { issues: { path: string[] }[] }).issues[0]!.path, ['afterSeq']);
    const mismatch = await rpcError(client.call('sessions.subscribe', { sessionKey: 'agent:main:x', agent: 'helper' }));
    assert.equal(mismatch.code, -32602);
    const unknown = await rpcError(client.call('sessions.unsubscribe', { subscription: 'nope' }));
    assert.equal(unknown.code, -32004);
    assert.deepEqual(unknown.data, { subscription: 'nope' });

    const limit = gateway.config.gateway.rpc.maxSubscriptions;
    const streams = [];
    for (let i = 0; i < limit; i++) streams.push(await client.subscribe({ sessionKey: newSession() }));
    const tooMany = await rpcError(client.call('sessions.subscribe', { sessionKey: newSession() }));
    assert.equal(tooMany.code, -32005);
    assert.deepEqual(tooMany.data, { limit });
    assert.equal((await client.call('gateway.status')).rpc.subscriptions >= limit, true);

    const sessionKey = newSession();
    await streams[0]!.unsubscribe();
    assert.equal(streams[0]!.isEnded, true);
    const stream = await client.subscribe({ sessionKey });
    const sent = await client.call('sessions.send', { message: 'rpc-unsubscribe', sessionKey });
    const got: SessionEventMessage[] = [];
    await readUntil(stream, got, (event) => event.type === 'turn.started');
    assert.deepEqual(await client.call('sessions.unsubscribe', { subscription: stream.id }), { unsubscribed: true, subscription: stream.id });
    const seen: unknown[] = [];
    client.onNotification((method, params) => seen.push({ method, params }));
    await outcomeOf(gateway, sessionKey, sent.messageId);
    // One more round trip: anything sent for the subscription would have arrived by now.
    await client.call('gateway.health');
    assert.deepEqual(seen, []);
    await client.close();
  });

  test('gateway.status reports Temporal reachable and the connections', async () => {
    const status = await eventually('ready', async () => {
      const answer = await rpc.call('gateway.status');
      return answer.ready ? answer : undefined;
    });
    assert.equal(status.temporal.reachable, true);
    assert.equal(status.temporal.namespace, gateway.config.temporal.namespace);
    assert.ok(status.rpc.connections >= 1);
    assert.ok(status.uptimeMs >= 0);
    assert.match(status.version, /^\d+\.\d+\.\d+/);
  });
});

describe('Temporal unreachable', () => {
  test('sessions.send answers -32003 with retryAfterMs; nothing was accepted', async () => {
    const config = ConfigSchema.parse({ gateway: { port: 0 }, temporal: { address: '127.0.0.1:1' }, log: { level: 'silent' } });
    const connection = Connection.lazy({ address: '127.0.0.1:1' });
    const client = new Client({ connection });
    const api = await buildApiServer({ config, client, logger: createLogger({ name: 'api', level: 'silent' }), internalToken: undefined });
    await api.app.listen({ host: '127.0.0.1', port: 0 });
    const address = api.app.server.address();
    const url = `ws://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/rpc`;
    try {
      const client = await RpcClient.connect(url);
      const error = await rpcError(client.call('sessions.send', { message: 'into the void', idempotencyKey: 'void-1' }));
      assert.equal(error.code, -32003);
      assert.equal(error.message, 'Temporal unavailable');
      assert.equal((error.data as { retryAfterMs: number }).retryAfterMs > 0, true);
      assert.equal((await client.call('gateway.health')).ok, true);
      await client.close();
    } finally {
      await api.app.close();
      await connection.close();
    }
  });
});
