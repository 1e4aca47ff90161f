// A whole gateway for a test file: the API and both workers in this process, against the
// suite's Temporal dev server, with agents running the real `claude` CLI on the fake API.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import type { CronActivityHooks } from '../../activities/cron-activities.js';
import type { HttpLimits } from '../../api/http-limits.js';
import type { AnyRpcMethod } from '../../api/rpc/method.js';
import { buildApiServer, type ApiServer } from '../../api/server.js';
import { ConfigSchema, type Config, type ConfigInput } from '../../config/schema.js';
import type { Logger } from 'pino';
import { createLogger } from '../../observability/logger.js';
import { installTracing } from '../../observability/tracing.js';
import { AgentSlotTracker, WorkerStatsReporter } from '../../observability/worker-stats.js';
import { createWorkers } from '../../worker/create-workers.js';
import { HttpEventPublisher } from '../../worker/http-event-publisher.js';
import { claudeEnv, type FakeAnthropic } from './fake-anthropic.js';
import { currentTestNamespace } from './namespace.js';
import { installQuietRuntime } from './quiet-runtime.js';
import { closableRetries } from '../../config/temporal-retries.js';

installQuietRuntime();

export const INTERNAL_TOKEN = 'test-internal-token';
export const CLAUDE_BIN = path.resolve(import.meta.dirname, '../../node_modules/.bin/claude');

export function temporalAddress(): string {
  const address = process.env.SWITCHYARD_TEST_TEMPORAL_ADDRESS;
  if (!address) throw new Error('SWITCHYARD_TEST_TEMPORAL_ADDRESS is not set: run the tests with `npm test`');
  return address;
}

/** A unique scope so that test files and runs never share a session. */
export function uniqueScope(label: string): string {
  return `${label}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

export interface TestGateway {
  url: string;
  /** ws://127.0.0.1:PORT/rpc */
  rpcUrl: string;
  config: Config;
  client: Client;
  api: ApiServer;
  workDir: string;
  startWorker(): Promise<void>;
  stopWorker(): Promise<void>;
  close(): Promise<void>;
}

export async function startTestGateway(options: {
  fake: FakeAnthropic;
  config?: ConfigInput;
  token?: string;
  worker?: boolean;
  /** Another Temporal than the suite's (a test that stops and restarts its own). */
  temporalAddress?: string;
  /** JSON-RPC methods registered on this gateway only (the specification's examples). */
  extraRpcMethods?: readonly AnyRpcMethod[];
  /** Shorter HTTP limits than production's (slow-client tests). */
  httpLimits?: HttpLimits;
  /** Test seams of the cron activities (e.g. fail a send after it was accepted). */
  cronHooks?: CronActivityHooks;
  /** The API's logger (a test that reads the log lines); default pino to stdout at config.log.level. */
  logger?: Logger;
}): Promise<TestGateway> {
  const address = options.temporalAddress ?? temporalAddress();
  const workDir = mkdtempSync(path.join(tmpdir(), 'switchyard-test-'));
  const claudeConfigDir = path.join(workDir, 'claude-config');
  const input = options.config ?? {};
  const config = ConfigSchema.parse({
    ...input,
    gateway: { port: 0, internalToken: INTERNAL_TOKEN, ...(options.token ? { auth: { token: options.token } } : {}), ...input.gateway },
    // A test's own dev server (options.temporalAddress) has only `default`.
    temporal: { address, namespace: options.temporalAddress ? 'default' : currentTestNamespace(), ...input.temporal },
    log: { level: 'warn', ...input.log },
    agentDefaults: {
      command: CLAUDE_BIN,
      cwd: workDir,
      env: claudeEnv(options.fake, claudeConfigDir),
      retry: { initialInterval: '200ms', maximumInterval: '1s' },
      ...input.agentDefaults,
    },
  });

  const retries = closableRetries();
  const connection = await Connection.connect({ address, interceptors: retries.interceptors });
  // As api/main.ts and worker/main.ts do; on only when the config names an OTLP endpoint.
  const tracing = await installTracing(config, 'api');
  const client = new Client({ connection, namespace: config.temporal.namespace, ...(tracing ? { interceptors: { workflow: tracing.clientInterceptors } } : {}) });
  const logger = options.logger ?? createLogger({ name: 'api', level: config.log.level });
  const api = await buildApiServer({
    config,
    client,
    logger,
    internalToken: INTERNAL_TOKEN,
    home: workDir,
    ...(options.extraRpcMethods ? { extraRpcMethods: options.extraRpcMethods } : {}),
    ...(options.httpLimits ? { httpLimits: options.httpLimits } : {}),
  });
  await api.app.listen({ host: '127.0.0.1', port: 0 });
  const listening = api.app.server.address();
  const url = `http://127.0.0.1:${typeof listening === 'object' && listening ? listening.port : 0}`;

  const publisher = new HttpEventPublisher(`${url}/internal/events`, INTERNAL_TOKEN);
  const agentSlots = new AgentSlotTracker();
  let statsReporter: WorkerStatsReporter | undefined;
  let nativeConnection: NativeConnection | undefined;
  let workers: Worker[] = [];
  let running: Promise<unknown> | undefined;

  const gateway: TestGateway = {
    url,
    rpcUrl: `${url.replace(/^http/, 'ws')}/rpc`,
    config,
    client,
    api,
    workDir,
    async startWorker() {
      nativeConnection ??= await NativeConnection.connect({ address });
      workers = await createWorkers({
        connection: nativeConnection,
        namespace: config.temporal.namespace,
        config: () => config,
        publisher,
        baseDir: workDir,
        env: process.env,
        shutdownGraceMs: 2000,
        client,
        gatewayRpcUrl: gateway.rpcUrl,
        ...(options.cronHooks ? { cronHooks: options.cronHooks } : {}),
        claudeHooks: { url: `${url}/internal/hooks`, internalToken: INTERNAL_TOKEN },
        agentSlots,
        ...(tracing ? { tracing } : {}),
      });
      running = Promise.all(workers.map((w) => w.run()));
      statsReporter = new WorkerStatsReporter(`${url}/internal/worker-stats`, INTERNAL_TOKEN, agentSlots, config.worker.maxConcurrentTurns);
    },
    async stopWorker() {
      for (const worker of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      workers = [];
      running = undefined;
      await statsReporter?.close();
      statsReporter = undefined;
    },
    async close() {
      await gateway.stopWorker();
      await publisher.close();
      await nativeConnection?.close();
      await api.app.close();
      await retries.close(connection);
      rmSync(workDir, { recursive: true, force: true });
    },
  };
  if (options.worker !== false) await gateway.startWorker();
  return gateway;
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any; headers: Headers }> {
  return postRaw(url, typeof body === 'string' ? body : JSON.stringify(body), { 'content-type': 'application/json', ...headers });
}

/** POSTs the bytes as given; the answer's body is parsed as JSON when it is JSON. */
export async function postRaw(url: string, body: string | Buffer, headers: Record<string, string>): Promise<{ status: number; body: any; headers: Headers }> {
  const response = await fetch(url, { method: 'POST', headers, body });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, body: parsed, headers: response.headers };
}
