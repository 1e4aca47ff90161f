// Durable webhook ingest (POST /hooks/:source, async mode: 202 once Temporal holds the
// message) against, in the same run and with the same concurrency:
//   - a bare loop of client.workflow.signalWithStart calls (the engine's limit), and
//   - fastify answering 202 without Temporal (the HTTP layer's limit).
// The API and the worker run in child processes of their own, as `switchyard start` runs
// them; autocannon and the bare loop run here. The worker processes every message, with a
// fake agent activity that answers at once. Loopback only; each measurement is bounded.
//
//   npx tsx bench/webhooks.ts [--seconds 10] [--rounds 2] [--connections 32] [--sessions 64] [--db file|memory]
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { Client, Connection } from '@temporalio/client';
import { WorkflowIdConflictPolicy } from '@temporalio/common';
import { AGENT_TASK_QUEUE, WORKFLOW_TASK_QUEUE, sessionWorkflowId } from '../contracts/names.js';
import { AGENT_KEY, SESSION_KEY_KEY, STATE_KEY } from '../contracts/search-attributes.js';
import type { SessionMessage, SessionStart, TurnRequest, TurnResult } from '../contracts/session.js';
import { ConfigSchema, type Config } from '../config/schema.js';
import { SESSION_WORKFLOW_TYPE, messageSignal, stateQuery } from '../workflows/session-definitions.js';
import type { sessionWorkflow } from '../workflows/session.js';
import { resolveTemporalBinary } from '../supervisor/temporal-binary.js';
import { SWITCHYARD_SEARCH_ATTRIBUTE_NAMES, devServerArgs, waitForTemporal } from '../supervisor/temporal-dev-server.js';
import { freePort } from '../test/support/processes.js';
import { describeMachine } from './machine.js';
import { summarize } from './stats.js';

const TOKEN = 'bench-token';
const INTERNAL_TOKEN = 'bench-internal-token';
const GITHUB_SECRET = 'bench-github-secret';
const AGENT = 'bench';

export interface WebhookBenchOptions {
  /** Seconds per measurement. */
  seconds?: number;
  /** Concurrent requests (HTTP connections, or loops of the bare client). */
  connections?: number;
  /** Sessions the messages are spread over. */
  sessions?: number;
  /** Each path is measured this many times, in rotating order. */
  rounds?: number;
  /** The dev server's store: a SQLite file (as `switchyard start` runs it) or memory. */
  db?: 'file' | 'memory';
}

export interface Measurement {
  name: string;
  requests: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  failures: number;
}

export interface WebhookBenchResult {
  machine: string;
  seconds: number;
  rounds: number;
  db: 'file' | 'memory';
  connections: number;
  sessions: number;
  /** Per path: throughput over all rounds; p50 and p99 are the means of the rounds'. */
  measurements: Measurement[];
  /** Gateway ingest throughput over bare signalWithStart throughput. */
  ratio: number;
  ratioWithDedupe: number;
}

function benchConfig(address: string): Config {
  return ConfigSchema.parse({
    gateway: { port: 0, auth: { token: TOKEN }, internalToken: INTERNAL_TOKEN },
    temporal: { address },
    log: { level: 'warn' },
    agents: { main: {}, [AGENT]: { busy: 'collect' } },
    webhooks: {
      // Bearer-authenticated, no delivery id: one signalWithStart per request.
      plain: { verify: { type: 'bearer', secret: TOKEN }, dedupeKey: 'none', agent: AGENT, session: '{{body.session}}', prompt: 'event {{body.n}}: {{body.action}}' },
      // GitHub-signed with a delivery id: deduplicated (the quick-ack update, then signalWithStart).
      github: { verify: { type: 'github', secret: GITHUB_SECRET }, agent: AGENT, session: '{{body.session}}', prompt: 'event {{body.n}}: {{body.action}}' },
    },
  });
}

// ---------------------------------------------------------------------------------------
// Child processes

/** The API: the real server, plus a bare fastify that answers 202 without Temporal. */
async function runApiChild(address: string): Promise<void> {
  const { buildApiServer } = await import('../api/server.js');
  const { createLogger } = await import('../observability/logger.js');
  const Fastify = (await import('fastify')).default;
  const config = benchConfig(address);
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, namespace: config.temporal.namespace });
  const { app } = await buildApiServer({ config, client, logger: createLogger({ name: 'api', level: 'warn' }), internalToken: INTERNAL_TOKEN });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const plain = Fastify({ logger: false });
  plain.post('/hooks/:source', async (_request, reply) =>
    reply.code(202).send({ accepted: true, duplicate: false, sessionKey: 'agent:bench:x', workflowId: 'session:agent:bench:x', messageId: randomUUID() }),
  );
  await plain.listen({ host: '127.0.0.1', port: 0 });
  const port = (server: { address(): unknown }) => (server.address() as { port: number }).port;
  process.stdout.write(`${JSON.stringify({ api: `http://127.0.0.1:${port(app.server)}`, plain: `http://127.0.0.1:${port(plain.server)}` })}\n`);
}

/** The worker: the real workflow worker and light activities; the agent activity answers at once. */
async function runWorkerChild(address: string, apiUrl: string): Promise<void> {
  const { NativeConnection, Worker, Runtime, DefaultLogger } = await import('@temporalio/worker');
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const { workflowBundle } = await import('../worker/workflow-bundle.js');
  const { createLightActivities, createLocalActivities } = await import('../activities/light-activities.js');
  const { createDeliveryActivities } = await import('../activities/deliver-result.js');
  const { HttpEventPublisher } = await import('../worker/http-event-publisher.js');
  const config = benchConfig(address);
  const deps = { config: () => config, publisher: new HttpEventPublisher(`${apiUrl}/internal/events`, INTERNAL_TOKEN) };
  const connection = await NativeConnection.connect({ address });
  const workflows = await Worker.create({
    connection,
    taskQueue: WORKFLOW_TASK_QUEUE,
    workflowBundle: await workflowBundle(),
    activities: { ...createLightActivities(deps), ...createLocalActivities(deps), ...createDeliveryActivities(deps) },
  });
  const agents = await Worker.create({
    connection,
    taskQueue: AGENT_TASK_QUEUE,
    maxConcurrentActivityTaskExecutions: 200,
    activities: {
      async runAgentTurn(request: TurnRequest): Promise<TurnResult> {
        const now = Date.now();
        return { text: `ok ${request.turnId}`, claudeSessionId: request.claudeSessionId, costUsd: 0, usage: {}, numTurns: 1, durationMs: 0, startedAt: now, finishedAt: now };
      },
    },
  });
  process.stdout.write(`${JSON.stringify({ worker: 'running' })}\n`);
  await Promise.all([workflows.run(), agents.run()]);
  await connection.close();
  process.exit(0);
}

function spawnChild(args: string[]): { child: ChildProcess; ready: Promise<Record<string, string>> } {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const ready = new Promise<Record<string, string>>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`bench child ${args[1]} exited with ${code}`)));
    createInterface({ input: child.stdout! }).once('line', (line) => resolve(JSON.parse(line) as Record<string, string>));
  });
  return { child, ready };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(timer);
}

// ---------------------------------------------------------------------------------------
// Measurements

const body = (session: string, n: number) => JSON.stringify({ session, n, action: 'opened', repository: { full_name: 'acme/api' }, sender: { login: 'bench' } });

async function measureHttp(name: string, url: string, seconds: number, connections: number, request: (n: number) => { headers: Record<string, string>; body: string }): Promise<Measurement> {
  let n = 0;
  const result = await autocannon({
    url,
    method: 'POST',
    connections,
    duration: seconds,
    timeout: 30,
    requests: [
      {
        method: 'POST',
        setupRequest: (req) => {
          const next = request(n++);
          return { ...req, headers: { ...req.headers, ...next.headers }, body: next.body };
        },
      },
    ],
  });
  const ok = result['2xx'];
  return {
    name,
    requests: ok,
    seconds: result.duration,
    perSecond: ok / result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    failures: result.non2xx + result.errors + result.timeouts,
  };
}

async function measureBare(client: Client, prefix: string, seconds: number, connections: number, sessions: number): Promise<Measurement> {
  const latencies: number[] = [];
  let failures = 0;
  let n = 0;
  const started = performance.now();
  const until = started + seconds * 1000;
  const loop = async () => {
    while (performance.now() < until) {
      const i = n++;
      const sessionKey = `agent:${AGENT}:${prefix}-${i % sessions}`;
      const messageId = randomUUID();
      const message: SessionMessage = { messageId, idempotencyKey: messageId, text: `event ${i}: opened`, source: 'bench', receivedAt: Date.now() };
      const start: SessionStart = { sessionKey, agentId: AGENT, busy: 'collect', maxTurnsPerRun: 200 };
      const t0 = performance.now();
      try {
        await client.workflow.signalWithStart<typeof sessionWorkflow, [SessionMessage]>(SESSION_WORKFLOW_TYPE, {
          workflowId: sessionWorkflowId(sessionKey),
          taskQueue: WORKFLOW_TASK_QUEUE,
          args: [start],
          signal: messageSignal,
          signalArgs: [message],
          workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
          typedSearchAttributes: [
            { key: AGENT_KEY, value: AGENT },
            { key: SESSION_KEY_KEY, value: sessionKey },
            { key: STATE_KEY, value: 'idle' },
          ],
        });
        latencies.push(performance.now() - t0);
      } catch {
        failures += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: connections }, loop));
  const elapsed = (performance.now() - started) / 1000;
  const stats = summarize(latencies);
  return { name: 'bare `signalWithStart` loop (engine limit)', requests: latencies.length, seconds: elapsed, perSecond: latencies.length / elapsed, p50Ms: stats.p50, p99Ms: stats.p99, failures };
}

function combine(name: string, rounds: Measurement[]): Measurement {
  const requests = rounds.reduce((sum, m) => sum + m.requests, 0);
  const seconds = rounds.reduce((sum, m) => sum + m.seconds, 0);
  const mean = (pick: (m: Measurement) => number) => rounds.reduce((sum, m) => sum + pick(m), 0) / rounds.length;
  return { name, requests, seconds, perSecond: requests / seconds, p50Ms: mean((m) => m.p50Ms), p99Ms: mean((m) => m.p99Ms), failures: rounds.reduce((sum, m) => sum + m.failures, 0) };
}

/** Waits (bounded) until every session of a measurement has worked through its messages. */
async function drain(client: Client, prefix: string, sessions: number, boundMs = 120_000): Promise<void> {
  const until = Date.now() + boundMs;
  for (let i = 0; i < sessions; i++) {
    const handle = client.workflow.getHandle(sessionWorkflowId(`agent:${AGENT}:${prefix}-${i}`));
    for (;;) {
      try {
        const state = await handle.query(stateQuery);
        if (state.queueLength === 0 && state.status === 'idle') break;
      } catch {
        break; // never started (a measurement with fewer requests than sessions)
      }
      if (Date.now() > until) return;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

export async function benchWebhooks(options: WebhookBenchOptions = {}): Promise<WebhookBenchResult> {
  const seconds = options.seconds ?? 10;
  const connections = options.connections ?? 32;
  const sessions = options.sessions ?? 64;
  const rounds = options.rounds ?? 2;
  const db = options.db ?? 'file';
  const temporal = await startDevServer(db);
  const address = temporal.address;
  const api = spawnChild(['--role', 'api', '--address', address]);
  let worker: ReturnType<typeof spawnChild> | undefined;
  const connection = await Connection.connect({ address });
  const client = new Client({ connection });
  try {
    const urls = await api.ready;
    worker = spawnChild(['--role', 'worker', '--address', address, '--api', urls.api!]);
    await worker.ready;
    const run = randomUUID().slice(0, 8);
    const plain = (prefix: string) => (n: number) => ({
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: body(`${prefix}-${n % sessions}`, n),
    });
    const github = (prefix: string) => (n: number) => {
      const payload = body(`${prefix}-${n % sessions}`, n);
      return {
        headers: {
          'content-type': 'application/json',
          'x-github-event': 'pull_request',
          'x-github-delivery': randomUUID(),
          'x-hub-signature-256': `sha256=${createHmac('sha256', GITHUB_SECRET).update(payload).digest('hex')}`,
        },
        body: payload,
      };
    };

    // Warm-up: JIT, connections, the workflow bundle, and the sessions' first runs.
    const warm = Math.min(3, seconds);
    await measureBare(client, `${run}-bare`, warm, connections, sessions);
    await measureHttp('warm', `${urls.api}/hooks/plain`, warm, connections, plain(`${run}-plain`));
    await measureHttp('warm', `${urls.api}/hooks/github`, warm, connections, github(`${run}-github`));
    await measureHttp('warm', `${urls.plain}/hooks/plain`, warm, connections, plain(`${run}-fastify`));
    for (const prefix of ['bare', 'plain', 'github']) await drain(client, `${run}-${prefix}`, sessions);

    // Rounds in rotating order, each path drained before the next, so that neither order
    // nor the worker's backlog favours one path.
    const paths: { name: string; measure: () => Promise<Measurement>; prefix?: string }[] = [
      { name: 'fastify answering 202, no Temporal (HTTP limit)', measure: () => measureHttp('', `${urls.plain}/hooks/plain`, seconds, connections, plain(`${run}-fastify`)) },
      { name: 'bare `signalWithStart` loop (engine limit)', prefix: 'bare', measure: () => measureBare(client, `${run}-bare`, seconds, connections, sessions) },
      { name: '`POST /hooks/plain` (bearer, no delivery id)', prefix: 'plain', measure: () => measureHttp('', `${urls.api}/hooks/plain`, seconds, connections, plain(`${run}-plain`)) },
      { name: '`POST /hooks/github` (HMAC, deduplicated on X-GitHub-Delivery)', prefix: 'github', measure: () => measureHttp('', `${urls.api}/hooks/github`, seconds, connections, github(`${run}-github`)) },
    ];
    const samples = new Map<string, Measurement[]>(paths.map((p) => [p.name, []]));
    for (let round = 0; round < rounds; round++) {
      const order = paths.slice(1).map((_, i, rest) => rest[(i + round) % rest.length]!);
      for (const p of [paths[0]!, ...order]) {
        samples.get(p.name)!.push({ ...(await p.measure()), name: p.name });
        if (p.prefix) await drain(client, `${run}-${p.prefix}`, sessions);
      }
    }
    const measurements = paths.map((p) => combine(p.name, samples.get(p.name)!));
    const bare = measurements[1]!.perSecond;
    return {
      machine: describeMachine(),
      seconds,
      rounds,
      db,
      connections,
      sessions,
      measurements,
      ratio: measurements[2]!.perSecond / bare,
      ratioWithDedupe: measurements[3]!.perSecond / bare,
    };
  } finally {
    if (worker) await stopChild(worker.child);
    await stopChild(api.child);
    await connection.close();
    await temporal.stop();
  }
}

/** A Temporal dev server of the bench's own, on a SQLite file as `switchyard start` runs it, its log discarded. */
async function startDevServer(db: 'file' | 'memory'): Promise<{ address: string; stop(): Promise<void> }> {
  const binary = await resolveTemporalBinary();
  if (binary.kind !== 'path') throw new Error('no temporal binary: see supervisor/temporal-binary.ts');
  const dir = mkdtempSync(path.join(tmpdir(), 'switchyard-bench-webhooks-'));
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const args = devServerArgs({ dbFile: path.join(dir, 'temporal.sqlite'), port, headless: true, logLevel: 'error' });
  // Without --db-filename the dev server keeps everything in memory.
  if (db === 'memory') args.splice(args.indexOf('--db-filename'), 2);
  const server = spawn(binary.path, args, { stdio: 'ignore' });
  await waitForTemporal(address, { timeoutMs: 60_000, namespace: 'default', searchAttributes: [...SWITCHYARD_SEARCH_ATTRIBUTE_NAMES] });
  return {
    address,
    async stop() {
      await stopChild(server);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function webhooksTable(result: WebhookBenchResult): string {
  const fmt = (value: number) => (value >= 100 ? value.toFixed(0) : value.toFixed(1));
  return [
    `Durable webhook ingest, async mode: ${result.connections} concurrent requests over ${result.sessions} sessions, ${result.rounds} × ${result.seconds} s per path in rotating order; Temporal dev server on ${result.db === 'file' ? 'a SQLite file' : 'in-memory SQLite'}. ${result.machine}.`,
    '',
    '| path | accepted / s | p50 | p99 | failed |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...result.measurements.map((m) => `| ${m.name} | ${fmt(m.perSecond)} | ${fmt(m.p50Ms)} ms | ${fmt(m.p99Ms)} ms | ${m.failures} |`),
    `| **gateway / bare signalWithStart** | **${(result.ratio * 100).toFixed(0)} %** (deduplicated: ${(result.ratioWithDedupe * 100).toFixed(0)} %) | | | |`,
  ].join('\n');
}

function flag(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : undefined;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const role = flag('--role');
  if (role === 'api') {
    await runApiChild(flag('--address')!);
  } else if (role === 'worker') {
    await runWorkerChild(flag('--address')!, flag('--api')!);
  } else {
    const result = await benchWebhooks({
      seconds: Number(flag('--seconds') ?? 10),
      connections: Number(flag('--connections') ?? 32),
      sessions: Number(flag('--sessions') ?? 64),
      rounds: Number(flag('--rounds') ?? 2),
      db: flag('--db') === 'memory' ? 'memory' : 'file',
    });
    console.log(webhooksTable(result));
  }
}
