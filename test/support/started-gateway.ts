// `switchyard start` as a real child process (supervisor, API, worker, embedded Temporal),
// for tests that kill its processes the hard way. Agents run the real `claude` CLI on the
// test's fake Messages API.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { stringify } from 'yaml';
import { EventHub } from '../../api/event-hub.js';
import { SessionService } from '../../api/session-service.js';
import { ConfigSchema, type ConfigInput } from '../../config/schema.js';
import { claudeEnv, type FakeAnthropic } from './fake-anthropic.js';
import { CLAUDE_BIN } from './gateway.js';
import { parentOf, processAlive, switchyardArgv } from './processes.js';
import { eventually, processesMatching } from './sessions.js';
import { closableRetries } from '../../config/temporal-retries.js';

export interface StartedGateway {
  /** http://127.0.0.1:PORT */
  api: string;
  dir: string;
  temporalPort: number;
  client: Client;
  sessions: SessionService;
  /** What the supervisor printed. */
  output(): string;
  /** The pid of the supervised child whose command line contains `needle`. */
  childPid(needle: string): Promise<number>;
  /** The same, now: undefined while there is none (between a crash and the restart). */
  currentChild(needle: string): number | undefined;
  /** SIGKILLs that child and waits for the supervisor to start a new one. */
  killChild(needle: string): Promise<{ killed: number; replacement: number }>;
  stop(): Promise<void>;
}

export const WORKER = path.join('worker', 'main.ts');
export const API = path.join('api', 'main.ts');

export async function startSwitchyard(options: { fake: FakeAnthropic; label: string; config?: ConfigInput }): Promise<StartedGateway> {
  const dir = mkdtempSync(path.join(tmpdir(), `switchyard-${options.label}-`));
  const home = path.join(dir, 'home');
  const temporalPort = await quietPort();
  const port = await quietPort();
  const input = options.config ?? {};
  writeFileSync(
    path.join(dir, 'switchyard.yaml'),
    stringify({
      ...input,
      gateway: { port, ...input.gateway },
      temporal: { devServerPort: temporalPort, uiPort: await quietPort(), ...input.temporal },
      agentDefaults: {
        command: CLAUDE_BIN,
        cwd: dir,
        env: claudeEnv(options.fake, path.join(dir, 'claude-config')),
        retry: { initialInterval: '200ms', maximumInterval: '2s' },
        ...input.agentDefaults,
      },
    }),
  );
  let output = '';
  const child: ChildProcess = spawn(process.execPath, switchyardArgv('start'), {
    cwd: dir,
    env: { ...process.env, SWITCHYARD_HOME: home, SWITCHYARD_TEST_TEMPORAL_ADDRESS: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const api = `http://127.0.0.1:${port}`;
  try {
    await eventually('the gateway to be ready', async () => (await fetch(`${api}/readyz`)).status === 200, 240_000);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`switchyard start did not become ready:\n${output}`, { cause: error });
  }
  const namespace = ConfigSchema.parse(input).temporal.namespace;
  const retries = closableRetries();
  const connection = await Connection.connect({ address: `127.0.0.1:${temporalPort}`, interceptors: retries.interceptors });
  const client = new Client({ connection, namespace });
  const sessions = new SessionService(client, new EventHub(), { maxTurnsPerRun: 200 });

  const currentChild = (needle: string) => processesMatching(needle).find((pid) => parentOf(pid) === child.pid && processAlive(pid));
  const childPid = (needle: string) => eventually(`the ${needle} process`, () => currentChild(needle), 120_000);

  return {
    api,
    dir,
    temporalPort,
    client,
    sessions,
    output: () => output,
    childPid,
    currentChild,
    async killChild(needle) {
      const killed = await childPid(needle);
      process.kill(killed, 'SIGKILL');
      const replacement = await eventually(`a new ${needle} process`, () =>
        processesMatching(needle).find((pid) => pid !== killed && parentOf(pid) === child.pid && processAlive(pid)),
      );
      return { killed, replacement };
    },
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGINT');
        const gone = await Promise.race([exited.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 60_000))]);
        if (!gone) child.kill('SIGKILL');
      }
      await retries.close(connection);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A free port below the kernel's ephemeral range (32768-60999 here). The API listens only
 * after Temporal is up, many seconds later; a port from freePort() is in the ephemeral
 * range, where other processes on a busy machine (dev servers pick several) may take it first.
 */
export async function quietPort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
}
