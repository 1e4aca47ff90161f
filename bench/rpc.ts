// The WebSocket JSON-RPC API under load:
//   - round trip of `gateway.health` (p50, p99) with 1, 100 and 1000 connections open
//     (calls one at a time, round-robin over the connections);
//   - RSS of the API process with 10,000 idle connections, against the same process idle;
//   - fan-out of one event to 100 subscribers: from the publish until the last one has it.
// The API runs as its own process (`api/main.ts`, as `switchyard start` runs it), so that its
// memory and CPU are its own; Temporal is not needed for any of this and is left unreachable.
// The rate limit is raised for the run: this measures the gateway, not the limiter.
//
//   npx tsx bench/rpc.ts [--samples 2000] [--idle 10000]
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { RpcClient } from '../client/rpc-client.js';
import { describeMachine } from './machine.js';
import { summarize } from './stats.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const INTERNAL_TOKEN = 'bench-internal-token';

export interface RpcBenchOptions {
  /** Connection counts for the latency runs. */
  connections?: number[];
  /** Round trips per latency run. */
  samples?: number;
  /** Idle connections for the memory run. */
  idle?: number;
  subscribers?: number;
  /** Events published for the fan-out run. */
  events?: number;
}

export interface RpcBenchResult {
  latency: { connections: number; n: number; p50: number; p99: number }[];
  memory: { connections: number; opened: number; rssIdleMiB: number; rssLoadedMiB: number; perConnectionKiB: number; error?: string };
  /** Publish → the last subscriber has it, through POST /internal/events to the API process. */
  fanout: { subscribers: number; events: number; p50: number; p99: number; postP50: number };
  /** hub.publish → the last subscriber has it, API and subscribers in this one process. */
  fanoutInProcess: { subscribers: number; events: number; p50: number; p99: number };
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = Number(/VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1] ?? Number.NaN);
  return kib / 1024;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function startApi(): Promise<{ child: ChildProcess; url: string; rpcUrl: string; stop(): Promise<void> }> {
  const home = mkdtempSync(path.join(tmpdir(), 'switchyard-bench-rpc-'));
  const port = await freePort();
  const settings = [
    'temporal.address=127.0.0.1:1',
    'log.level=warn',
    'gateway.rpc.rateLimit.requestsPerSecond=1000000',
    'gateway.rpc.rateLimit.burst=1000000',
  ];
  const env: NodeJS.ProcessEnv = { ...process.env, SWITCHYARD_HOME: home, SWITCHYARD_INTERNAL_TOKEN: INTERNAL_TOKEN };
  for (const name of Object.keys(env)) if (name.startsWith('SWITCHYARD_') && !['SWITCHYARD_HOME', 'SWITCHYARD_INTERNAL_TOKEN'].includes(name)) delete env[name];
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), path.join(ROOT, 'api/main.ts'), '--port', String(port), ...settings.flatMap((s) => ['--set', s])], {
    cwd: home,
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the API exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      // not yet
    }
    await sleep(100);
  }
  return {
    child,
    url,
    rpcUrl: `ws://127.0.0.1:${port}/rpc`,
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** Opens `count` more connections, `parallel` at a time. */
async function openConnections(url: string, count: number, into: RpcClient[], parallel = 200): Promise<void> {
  for (let opened = 0; opened < count; ) {
    const batch = Math.min(parallel, count - opened);
    into.push(...(await Promise.all(Array.from({ length: batch }, () => RpcClient.connect(url)))));
    opened += batch;
  }
}

async function closeAll(clients: RpcClient[]): Promise<void> {
  for (let i = 0; i < clients.length; i += 500) await Promise.all(clients.slice(i, i + 500).map((client) => client.close()));
  clients.length = 0;
}

export async function benchRpc(options: RpcBenchOptions = {}): Promise<RpcBenchResult> {
  const connectionCounts = options.connections ?? [1, 100, 1000];
  const samples = options.samples ?? 2000;
  const idle = options.idle ?? 10_000;
  const subscriberCount = options.subscribers ?? 100;
  const eventCount = options.events ?? 200;
  const api = await startApi();
  const clients: RpcClient[] = [];
  try {
    // Latency.
    const latency: RpcBenchResult['latency'] = [];
    for (const count of connectionCounts) {
      await openConnections(api.rpcUrl, count - clients.length, clients);
      for (let i = 0; i < (latency.length === 0 ? 2000 : 200); i++) await clients[i % clients.length]!.call('gateway.health');
      const times: number[] = [];
      for (let i = 0; i < samples; i++) {
        const client = clients[i % count]!;
        const started = performance.now();
        await client.call('gateway.health');
        times.push(performance.now() - started);
      }
      const stats = summarize(times);
      latency.push({ connections: count, n: stats.n, p50: stats.p50, p99: stats.p99 });
    }
    await closeAll(clients);

    // Memory: the same process idle, then with `idle` idle connections.
    await sleep(2000);
    const rssIdleMiB = rssMiB(api.child.pid!);
    let error: string | undefined;
    try {
      await openConnections(api.rpcUrl, idle, clients);
    } catch (failure) {
      error = (failure as Error).message;
    }
    await sleep(2000);
    const opened = clients.length;
    const rssLoadedMiB = rssMiB(api.child.pid!);
    const memory = {
      connections: idle,
      opened,
      rssIdleMiB,
      rssLoadedMiB,
      perConnectionKiB: opened > 0 ? ((rssLoadedMiB - rssIdleMiB) * 1024) / opened : Number.NaN,
      ...(error ? { error } : {}),
    };
    await closeAll(clients);

    // Fan-out: one session, `subscriberCount` subscribers on their own connections; each
    // event is published as the worker publishes it (POST /internal/events).
    const sessionKey = 'agent:main:bench-fanout';
    const allReceived = await subscribeAll(api.rpcUrl, sessionKey, subscriberCount, clients);
    const fanout: number[] = [];
    const posts: number[] = [];
    for (let n = 0; n < eventCount + 20; n++) {
      const all = allReceived(n);
      const started = performance.now();
      const response = await fetch(`${api.url}/internal/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${INTERNAL_TOKEN}` },
        body: JSON.stringify({ events: [{ sessionKey, turnId: 'bench', type: 'turn.delta', data: { text: 'a chunk of an answer', n }, ts: Date.now() }] }),
      });
      const posted = performance.now();
      if (response.status !== 204) throw new Error(`POST /internal/events answered ${response.status}`);
      await all;
      if (n >= 20) {
        fanout.push(performance.now() - started);
        posts.push(posted - started);
      }
    }
    const fanoutStats = summarize(fanout);
    await closeAll(clients);
    return {
      latency,
      memory,
      fanout: { subscribers: subscriberCount, events: eventCount, p50: fanoutStats.p50, p99: fanoutStats.p99, postP50: summarize(posts).p50 },
      fanoutInProcess: await fanoutInProcess(subscriberCount, eventCount),
    };
  } finally {
    await closeAll(clients).catch(() => undefined);
    await api.stop();
  }
}

/** Subscribes `count` connections to one session; the returned function waits for event `n` on all of them. */
async function subscribeAll(url: string, sessionKey: string, count: number, clients: RpcClient[]): Promise<(n: number) => Promise<void>> {
  await openConnections(url, count, clients);
  const arrivals = new Map<number, number>();
  const waiting = new Map<number, () => void>();
  for (const client of clients) {
    const stream = await client.subscribe({ sessionKey });
    void (async () => {
      for await (const event of stream) {
        const n = event.data.n as number;
        const arrived = (arrivals.get(n) ?? 0) + 1;
        arrivals.set(n, arrived);
        if (arrived === count) waiting.get(n)?.();
      }
    })();
  }
  return (n) => new Promise<void>((resolve) => waiting.set(n, resolve));
}

/** The API in this process (Temporal left unreachable): hub.publish → every subscriber has the event. */
async function fanoutInProcess(subscriberCount: number, eventCount: number): Promise<RpcBenchResult['fanoutInProcess']> {
  const { Client, Connection } = await import('@temporalio/client');
  const { buildApiServer } = await import('../api/server.js');
  const { ConfigSchema } = await import('../config/schema.js');
  const { createLogger } = await import('../observability/logger.js');
  const config = ConfigSchema.parse({ temporal: { address: '127.0.0.1:1' }, log: { level: 'warn' } });
  const connection = Connection.lazy({ address: '127.0.0.1:1' });
  const api = await buildApiServer({ config, client: new Client({ connection }), logger: createLogger({ name: 'bench-api', level: 'warn' }), internalToken: undefined });
  await api.app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = api.app.server.address() as net.AddressInfo;
  const clients: RpcClient[] = [];
  try {
    const sessionKey = 'agent:main:bench-fanout';
    const allReceived = await subscribeAll(`ws://127.0.0.1:${port}/rpc`, sessionKey, subscriberCount, clients);
    const times: number[] = [];
    for (let n = 0; n < eventCount + 20; n++) {
      const all = allReceived(n);
      const started = performance.now();
      api.hub.publish([{ sessionKey, turnId: 'bench', type: 'turn.delta', data: { text: 'a chunk of an answer', n }, ts: Date.now() }]);
      await all;
      if (n >= 20) times.push(performance.now() - started);
    }
    const stats = summarize(times);
    return { subscribers: subscriberCount, events: eventCount, p50: stats.p50, p99: stats.p99 };
  } finally {
    await closeAll(clients);
    await api.app.close();
    await connection.close();
  }
}

const msText = (value: number) => `${value.toFixed(2)} ms`;

export function rpcTable(result: RpcBenchResult): string {
  const { memory, fanout } = result;
  return [
    '| measure | p50 | p99 |',
    '| --- | ---: | ---: |',
    ...result.latency.map((row) => `| \`gateway.health\` round trip, ${row.connections} connection${row.connections === 1 ? '' : 's'} open (N = ${row.n}) | ${msText(row.p50)} | ${msText(row.p99)} |`),
    `| fan-out of one event to ${result.fanoutInProcess.subscribers} subscribers: \`hub.publish\` → the last has it (API and subscribers in one process, N = ${result.fanoutInProcess.events}) | ${msText(result.fanoutInProcess.p50)} | ${msText(result.fanoutInProcess.p99)} |`,
    `| fan-out of one event to ${fanout.subscribers} subscribers: \`POST /internal/events\` (as a worker publishes) → the last has it (API in its own process, N = ${fanout.events}) | ${msText(fanout.p50)} | ${msText(fanout.p99)} |`,
    '',
    '| memory of the API process (RSS) | value |',
    '| --- | ---: |',
    `| idle, no connections | ${memory.rssIdleMiB.toFixed(1)} MiB |`,
    `| with ${memory.opened} idle connections${memory.opened < memory.connections ? ` (of ${memory.connections} tried: ${memory.error ?? 'stopped'})` : ''} | ${memory.rssLoadedMiB.toFixed(1)} MiB |`,
    `| per connection | ${memory.perConnectionKiB.toFixed(1)} KiB |`,
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { samples: { type: 'string', default: '2000' }, idle: { type: 'string', default: '10000' } } });
  const result = await benchRpc({ samples: Number(values.samples), idle: Number(values.idle) });
  console.log(`${describeMachine()}\n`);
  console.log(rpcTable(result));
}
