// Connection hygiene on /rpc: a consumer that stops reading is told why and closed (1013)
// while another keeps being served; peers that stop answering pings are terminated; a
// stopping gateway says goodbye with 1001.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import type { SessionEvent } from '../contracts/events.js';
import { RpcClient } from '../client/rpc-client.js';
import { startFakeAnthropic, type FakeAnthropic } from './support/fake-anthropic.js';
import { startTestGateway, uniqueScope, type TestGateway } from './support/gateway.js';

let fake: FakeAnthropic;
let gateway: TestGateway;

before(async () => {
  fake = await startFakeAnthropic();
  gateway = await startTestGateway({ fake, worker: false, config: { gateway: { rpc: { sendBufferBytes: 1_048_576 } } } });
});
after(async () => {
  await gateway?.close();
  await fake?.close();
});

/** Polls `check` on a short interval (not a deadline: it waits as long as it takes). */
async function waitFor(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe('a slow consumer', () => {
  test('is told why and closed with 1013 while another client keeps being served', async () => {
    const sessionKey = `agent:main:${uniqueScope('flood')}`;
    const slow = await RpcClient.connect(gateway.rpcUrl);
    await slow.subscribe({ sessionKey });
    const fast = await RpcClient.connect(gateway.rpcUrl);
    const fastStream = await fast.subscribe({ sessionKey });
    let fastReceived = 0;
    const fastReading = (async () => {
      for await (const _event of fastStream) fastReceived += 1;
    })();

    // The slow client stops reading its socket.
    slow.socket.pause();
    const text = 'x'.repeat(16 * 1024);
    const slowClosed = () => gateway.api.rpc.stats().closedSlow >= 1;
    let published = 0;
    while (!slowClosed()) {
      const burst: SessionEvent[] = Array.from({ length: 16 }, () => ({ sessionKey, turnId: 'flood', type: 'turn.delta', data: { text, n: published++ }, ts: Date.now() }));
      gateway.api.hub.publish(burst);
      await waitFor(() => fastReceived >= published || slowClosed());
      // The other client is answered all along.
      assert.equal((await fast.call('gateway.health')).ok, true);
    }

    // Reading again, the slow client finds the server's last word, then the close.
    slow.socket.resume();
    const closed = await slow.closed;
    assert.equal(closed.code, 1013);
    assert.equal(closed.reason, 'send buffer full');
    assert.equal(slow.closing?.code, 1013);
    assert.match(slow.closing!.detail, /sendBufferBytes/);
    assert.match(slow.closing!.detail, /afterSeq/);

    // The fast one lost nothing and is still served.
    await waitFor(() => fastReceived >= published);
    assert.equal(fastReceived, published);
    assert.equal(fast.isOpen, true);
    assert.equal((await fast.call('gateway.health')).ok, true);
    const status = await fast.call('gateway.status');
    assert.equal(status.rpc.connections, 1);
    await fast.close();
    await fastReading;
  });
});

describe('ping and pong', () => {
  test('a peer that stops answering pings is terminated; one that answers stays', async () => {
    const pinging = await startTestGateway({ fake, worker: false, config: { gateway: { rpc: { pingInterval: '100ms' } } } });
    try {
      const mute = new WebSocket(pinging.rpcUrl, { autoPong: false });
      await once(mute, 'open');
      const alive = new WebSocket(pinging.rpcUrl);
      await once(alive, 'open');
      let pings = 0;
      alive.on('ping', () => (pings += 1));

      const [code] = (await once(mute, 'close')) as [number];
      assert.equal(code, 1006, 'terminated, without a close frame');
      await waitFor(() => pings >= 5);
      assert.equal(alive.readyState, WebSocket.OPEN);
      alive.close();
      await once(alive, 'close');
    } finally {
      await pinging.close();
    }
  });
});

describe('shutdown', () => {
  test('a stopping gateway sends connection.closing and closes with 1001', async () => {
    const stopping = await startTestGateway({ fake, worker: false });
    const client = await RpcClient.connect(stopping.rpcUrl);
    await client.subscribe({ sessionKey: `agent:main:${uniqueScope('bye')}` });
    await stopping.close();
    const closed = await client.closed;
    assert.equal(closed.code, 1001);
    assert.deepEqual(client.closing, { code: 1001, reason: 'server shutting down', detail: 'the gateway is stopping; reconnect later (subscriptions: with afterSeq)' });
  });
});
