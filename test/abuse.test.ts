// Abuse of the API (issue 9): bodies over the limit, clients that send their request slowly,
// and one WebSocket client flooding while another is being served. A frame over
// gateway.rpc.maxFrameBytes (closed with 1009) is in rpc-spec.test.ts; a source's own body
// limit in webhooks-http.test.ts.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { HttpLimits } from '../api/http-limits.js';
import { startFakeAnthropic, type FakeAnthropic } from './support/fake-anthropic.js';
import { postRaw, startTestGateway, type TestGateway } from './support/gateway.js';
import { RawRpc } from './support/rpc.js';
import { eventually } from './support/sessions.js';
import { recordFigures } from './faults/support.js';

const BODY_LIMIT = 4096;
// Production's limits (10 s, 30 s, checked every 30 s) scaled down; the mechanism is the same.
const LIMITS: HttpLimits = { headersTimeoutMs: 3000, requestTimeoutMs: 5000, checkIntervalMs: 500 };

let fake: FakeAnthropic;
let gateway: TestGateway;

before(async () => {
  fake = await startFakeAnthropic();
  gateway = await startTestGateway({ fake, worker: false, httpLimits: LIMITS, config: { gateway: { bodyLimit: BODY_LIMIT } } });
});
after(async () => {
  await gateway?.close();
  await fake?.close();
});

const port = () => Number(new URL(gateway.url).port);
const healthy = async () => (await fetch(`${gateway.url}/healthz`)).status === 200;

describe('oversized bodies', () => {
  test('/hooks/agent answers 413 with a JSON error over gateway.bodyLimit, by Content-Length or while streaming', async () => {
    const big = JSON.stringify({ message: 'x'.repeat(BODY_LIMIT) });
    const declared = await postRaw(`${gateway.url}/hooks/agent`, big, { 'content-type': 'application/json' });
    assert.equal(declared.status, 413);
    assert.equal(typeof declared.body.error.code, 'string');

    // Chunked: no Content-Length, the limit is found while reading.
    const chunked = await fetch(`${gateway.url}/hooks/agent`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: new ReadableStream({
        start(controller) {
          for (let i = 0; i < 8; i++) controller.enqueue(new TextEncoder().encode('x'.repeat(1024)));
          controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    assert.equal(chunked.status, 413);
    assert.ok(await healthy());
  });
});

/** Opens a raw connection and resolves when the server closes it, with what it sent. */
function slowClient(start: string, drip: string): { closed: Promise<string>; socket: net.Socket } {
  const socket = net.connect(port(), '127.0.0.1');
  let received = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk) => (received += chunk));
  socket.on('error', () => undefined);
  socket.write(start);
  // One byte a second: the request never completes on its own.
  const timer = setInterval(() => socket.write(drip), 1000);
  const closed = new Promise<string>((resolve) =>
    socket.on('close', () => {
      clearInterval(timer);
      resolve(received);
    }),
  );
  return { closed, socket };
}

describe('slow clients', () => {
  test(`headers sent a byte a second are cut off (headersTimeout ${LIMITS.headersTimeoutMs} ms), and others are served meanwhile`, async () => {
    const slow = slowClient('GET /healthz HTTP/1.1\r\nHost: x\r\n', 'a');
    assert.ok(await healthy(), 'another client is served');
    const answer = await slow.closed;
    assert.match(answer, /^(HTTP\/1\.1 408|)/, 'closed, with a 408 or nothing');
    assert.ok(await healthy());
  });

  test(`a body sent a byte a second is cut off (requestTimeout ${LIMITS.requestTimeoutMs} ms)`, async () => {
    const slow = slowClient('POST /hooks/agent HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{', ' ');
    const answer = await slow.closed;
    assert.match(answer, /^(HTTP\/1\.1 408|)/, 'closed, with a 408 or nothing');
    assert.ok(await healthy());
  });
});

describe('a WebSocket flood', () => {
  /** gateway.health round trips, one after another, within this client's rate limit; their durations in ms. */
  async function healthTimes(client: RawRpc, count: number): Promise<number[]> {
    const times: number[] = [];
    const pace = 1000 / (gateway.config.gateway.rpc.rateLimit.requestsPerSecond * 0.8);
    for (let i = 0; i < count; i++) {
      const id = `h-${i}-${Math.random()}`;
      const started = performance.now();
      client.send({ jsonrpc: '2.0', method: 'gateway.health', id });
      await client.until(() => client.received.some((r) => (r as { id?: unknown }).id === id));
      times.push(performance.now() - started);
      const answer = client.received.find((r) => (r as { id?: unknown }).id === id);
      assert.equal((answer as { result?: { ok?: boolean } }).result?.ok, true, JSON.stringify(answer));
      await sleep(pace);
    }
    return times;
  }
  const p99 = (times: number[]) => [...times].sort((a, b) => a - b)[Math.min(times.length - 1, Math.floor(times.length * 0.99))]!;

  test('a client flooding through its rate limit is refused (-32029), then closed with 1008; another keeps getting answers', async () => {
    const other = await RawRpc.open(gateway.rpcUrl);
    const idle = await healthTimes(other, 150);

    // The flooder runs in a process of its own, so that its CPU work is not counted against
    // the server: it reconnects whenever it is closed, and floods again.
    const flooder = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), path.join(import.meta.dirname, 'support/ws-flooder.ts'), gateway.rpcUrl], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    flooder.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = once(flooder, 'exit');
    await eventually('the flooder started', () => output.includes('flooding'));
    await sleep(2000);
    // 600 round trips, about 16 s: longer than the cool-down after a 1008 (FLOOD_COOLDOWN_MS),
    // so the flooder's next episode, once its address may connect again, is measured too.
    const loaded = await healthTimes(other, 600);
    flooder.kill('SIGTERM');
    await exited;
    const flood = JSON.parse(output.trim().split('\n').at(-1)!) as { sent: number; throttled: number; answered: number; connections: number; refusedUpgrades: Record<string, number>; closeCodes: Record<string, number> };

    assert.ok(flood.throttled > 0, 'the flooding client was refused');
    const codes = Object.keys(flood.closeCodes);
    assert.ok(codes.length > 0 && codes.every((code) => code === '1008'), `closed with 1008: ${JSON.stringify(flood.closeCodes)}`);
    // After a 1008 its address waits (FLOOD_COOLDOWN_MS) before it may connect again.
    assert.ok((flood.refusedUpgrades['429'] ?? 0) > 0, `reconnects after the 1008 refused with 429: ${JSON.stringify(flood.refusedUpgrades)}`);
    recordFigures('ws-flood', {
      idleP99Ms: Number(p99(idle).toFixed(2)),
      floodedP99Ms: Number(p99(loaded).toFixed(2)),
      ratio: Number((p99(loaded) / p99(idle)).toFixed(2)),
      floodRequestsSent: flood.sent,
      floodAnswered: flood.answered,
      floodThrottled: flood.throttled,
      flooderConnections: flood.connections,
      flooderUpgradesRefused: flood.refusedUpgrades,
      flooderClosedWith1008: flood.closeCodes['1008'] ?? 0,
    });
    await other.close();
  });
});
