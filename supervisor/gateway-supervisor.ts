// `switchyard start`: takes the instance lock, starts (or waits for) Temporal, then the worker,
// then the API, watches and restarts them, and stops them in reverse order.
//
// runGateway() returns as soon as the lock is held and the ports are known to be free, so the
// caller can wire SIGINT/SIGTERM to stop() before the slow part (a first-run Go build of the
// temporal CLI, the dev server's start, the API's health check). `ready` resolves with the URLs
// once the API answers; `done` resolves with the exit code: 0 after stop(), 78 when a child
// refused its configuration, 1 when startup failed or a child could not be kept alive.
//
// Embedded Temporal comes from the temporal CLI (see temporal-binary.ts) run as a supervised
// child, restarted like the others. Without the CLI but with internet, the Temporal SDK downloads
// and runs the dev server itself (TestWorkflowEnvironment.createLocal); that server lives inside
// this process and is NOT restarted if it dies.
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { temporalDbFile } from '../config/paths.js';
import { temporalConnectionOptions } from '../config/temporal-connection.js';
import type { Config } from '../config/schema.js';
import { SupervisedChild, EXIT_CONFIG_ERROR, type ChildState } from './child-process.js';
import { acquireInstanceLock, type InstanceLock } from './instance-lock.js';
import { ChildrenRecorder, stopStaleChildren } from './stale-children.js';
import { resolveTemporalBinary } from './temporal-binary.js';
import { devServerArgs, startSdkDevServer, SWITCHYARD_SEARCH_ATTRIBUTE_NAMES, waitForTemporal, type SdkDevServer } from './temporal-dev-server.js';
import { withWorkerMallocTuning } from './worker-malloc.js';

export type GatewayOptions = {
  config: Config;
  home: string;
  /** argv forwarded to the worker and API, e.g. ['--set', 'gateway.port=9000']. */
  flags: string[];
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
  /** Working directory of the children (default process.cwd()); they load their config from it. */
  cwd?: string;
  /** Entry scripts of the children (default worker/main and api/main next to this module, same extension). */
  entries?: { worker: string; api: string };
  /** Node options the children are started with (default process.execArgv minus --inspect/--test/--watch). */
  execArgv?: string[];
  /** How long Temporal may take to answer (default 120 s; an external address is waited for until stop()). */
  temporalTimeoutMs?: number;
  /** How long the API may take to answer GET /healthz (default 120 s). */
  apiTimeoutMs?: number;
  /** Grace periods of the ordered stop. */
  grace?: { apiMs?: number; workerMs?: number; temporalMs?: number };
  /** Backoff of the children's restarts (tests shorten it). */
  restart?: { initialDelayMs?: number; maxDelayMs?: number; resetAfterMs?: number };
};

export type GatewayInfo = {
  apiUrl: string;
  wsUrl: string;
  temporalAddress: string;
  temporalUiUrl: string | undefined;
  namespace: string;
  logsDir: string;
};

export type GatewayHandle = {
  /** Ordered stop: API, worker, Temporal, lock. A second call while stopping SIGKILLs every child group. */
  stop(): Promise<void>;
  /** Exit code for the process: 0 after stop(), 78 on a config error, 1 on any other failure. */
  done: Promise<number>;
  /** Resolves once the API answers /healthz; rejects when startup fails (done then resolves non-zero). */
  ready: Promise<GatewayInfo>;
  /** The supervised children started so far, by name (temporal, worker, api). */
  children: ReadonlyMap<string, SupervisedChild>;
};

export class GatewayStartError extends Error {
  override name = 'GatewayStartError';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

const STRIPPED_EXEC_ARGV = /^--(inspect|debug|test|watch|experimental-test)/;

/** process.execArgv minus flags that must not be inherited (debugger ports, test runner, watch mode). */
export function inheritableExecArgv(execArgv: string[] = process.execArgv): string[] {
  return execArgv.filter((arg) => !STRIPPED_EXEC_ARGV.test(arg));
}

/**
 * Node options for a child entry. A TypeScript entry gets tsx's loader by absolute URL: a bare
 * `--import tsx` resolves from the working directory, which is the user's project, not ours.
 */
export function entryExecArgv(entry: string, inherited: string[] = inheritableExecArgv()): string[] {
  if (!entry.endsWith('.ts')) return inherited;
  const withoutTsx: string[] = [];
  for (let i = 0; i < inherited.length; i++) {
    const arg = inherited[i]!;
    const value = /^--(import|require|loader)$/.test(arg) ? inherited[i + 1] : undefined;
    if (value !== undefined && /(^tsx$|[\\/]tsx[\\/])/.test(value)) {
      i++;
      continue;
    }
    if (/^--(import|require|loader)=.*(tsx$|[\\/]tsx[\\/])/.test(arg)) continue;
    withoutTsx.push(arg);
  }
  return [...withoutTsx, '--import', import.meta.resolve('tsx')];
}

/** worker/main and api/main next to this module, with this module's own extension (.ts under tsx, .js from dist/). */
export function defaultEntries(): { worker: string; api: string } {
  const self = fileURLToPath(import.meta.url);
  const ext = path.extname(self);
  return {
    worker: fileURLToPath(new URL(`../worker/main${ext}`, import.meta.url)),
    api: fileURLToPath(new URL(`../api/main${ext}`, import.meta.url)),
  };
}

/** Resolves true when nothing listens on host:port. */
export function isPortFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => {
      server.close(() => resolve(true));
    });
  });
}

/** The host a client uses to reach a server bound to `bind` (wildcards become loopback). */
export function connectHost(bind: string): string {
  if (bind === '0.0.0.0' || bind === '') return '127.0.0.1';
  if (bind === '::' || bind === '[::]') return '::1';
  return bind;
}

function hostForUrl(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

export async function runGateway(opts: GatewayOptions): Promise<GatewayHandle> {
  const { config, home } = opts;
  const env = opts.env ?? process.env;
  const log = opts.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const logsDir = path.join(home, 'logs');
  const embedded = config.temporal.address === 'embedded';
  const namespace = config.temporal.namespace;
  const bind = config.gateway.bind;

  // 1. One gateway per home.
  const lock: InstanceLock = await acquireInstanceLock(home);

  // 2. Ports, before anything is started, so the error is immediate and clear. First, what a
  // supervisor that died (SIGKILL, OOM) left running in this home: the lock proves it is dead.
  try {
    await stopStaleChildren(home, { log });
    const checks: Array<{ host: string; port: number; what: string; key: string }> = [];
    if (config.gateway.port !== 0) checks.push({ host: bind, port: config.gateway.port, what: 'the API', key: 'gateway.port' });
    if (embedded) {
      checks.push({ host: '127.0.0.1', port: config.temporal.devServerPort, what: 'the embedded Temporal server', key: 'temporal.devServerPort' });
      checks.push({ host: '127.0.0.1', port: config.temporal.uiPort, what: 'the Temporal UI', key: 'temporal.uiPort' });
    }
    const busy: string[] = [];
    for (const check of checks) {
      if (!(await isPortFree(check.host, check.port))) {
        busy.push(`port ${check.port} on ${check.host} (${check.what}, ${check.key}) is already in use`);
      }
    }
    if (busy.length) {
      throw new GatewayStartError(
        `${busy.join('\n')}\nStop whatever listens there, or choose other ports (e.g. --set ${checks[0]?.key ?? 'gateway.port'}=<port>).`,
      );
    }
    await mkdir(logsDir, { recursive: true });
  } catch (err) {
    await lock.release();
    throw err;
  }

  const children = new Map<string, SupervisedChild>();
  const recorder = new ChildrenRecorder(home, { log });
  const abort = new AbortController();
  let sdkServer: SdkDevServer | undefined;
  let stopping: Promise<void> | undefined;
  let exitCode = 0;
  let resolveDone!: (code: number) => void;
  const done = new Promise<number>((resolve) => {
    resolveDone = resolve;
  });
  const grace = { apiMs: 5_000, workerMs: 30_000, temporalMs: 10_000, ...opts.grace };

  const childEnv: NodeJS.ProcessEnv = {
    ...env,
    SWITCHYARD_INTERNAL_TOKEN: config.gateway.internalToken ?? env.SWITCHYARD_INTERNAL_TOKEN ?? randomBytes(32).toString('hex'),
    SWITCHYARD_SUPERVISED: '1',
  };
  const restart = { initialDelayMs: 500, maxDelayMs: 30_000, resetAfterMs: 60_000, ...opts.restart };

  const fail = (message: string, code = 1) => {
    if (stopping) return;
    log(`switchyard: ${message}`);
    exitCode = code;
    void shutdown();
  };

  const watch = (child: SupervisedChild) => {
    children.set(child.name, child);
    child.on('exit', (info) => {
      if (info.expected || stopping) return;
      log(`switchyard: ${child.name} ${info.signal ? `was killed by ${info.signal}` : `exited with code ${info.code}`} (log: ${path.join(logsDir, `${child.name}.log`)})`);
    });
    child.on('restart', (attempt) => log(`switchyard: restarting ${child.name} (restart #${attempt})`));
    child.on('crashed', (reason) => {
      const code = child.status().lastExit?.code === EXIT_CONFIG_ERROR ? EXIT_CONFIG_ERROR : 1;
      fail(`${child.name} stopped for good: ${reason}`, code);
    });
  };

  const makeChild = (name: string, command: string, args: string[], childOpts: { env?: NodeJS.ProcessEnv; termTarget?: 'group' | 'leader'; graceMs: number }) => {
    const child = new SupervisedChild({
      name,
      command,
      args,
      env: childOpts.env ?? env,
      cwd: opts.cwd ?? process.cwd(),
      logFile: path.join(logsDir, `${name}.log`),
      restart,
      termTarget: childOpts.termTarget ?? 'group',
      defaultGraceMs: childOpts.graceMs,
    });
    watch(child);
    child.on('spawn', (pid) => recorder.spawned(name, pid, [command, ...args]));
    return child;
  };

  async function shutdown(): Promise<void> {
    if (stopping) return stopping;
    abort.abort(new Error('stopping'));
    stopping = (async () => {
      log('switchyard: stopping…');
      // Reverse order of start: the API stops taking requests, the worker drains, then Temporal goes.
      let clean = true;
      const order: Array<[string, number]> = [
        ['api', grace.apiMs],
        ['worker', grace.workerMs],
        ['temporal', grace.temporalMs],
      ];
      for (const [name, graceMs] of order) {
        const child = children.get(name);
        if (!child) continue;
        try {
          await child.stop({ graceMs });
        } catch (err) {
          log(`switchyard: stopping ${name} failed: ${(err as Error).message}`);
          clean = false;
        }
      }
      if (clean) recorder.clear(); // else the record lets the next start stop what is left
      if (sdkServer) {
        await sdkServer.stop().catch((err: Error) => log(`switchyard: stopping the Temporal dev server failed: ${err.message}`));
      }
      await lock.release();
      log('switchyard: stopped');
      resolveDone(exitCode);
    })();
    return stopping;
  }

  const stop = async (): Promise<void> => {
    if (stopping) {
      // A second Ctrl-C: nobody waits for graceful exits any more.
      log('switchyard: killing all processes');
      for (const child of children.values()) child.kill();
      return stopping;
    }
    return shutdown();
  };

  const startup = async (): Promise<GatewayInfo> => {
    let temporalAddress: string;
    let temporalUiUrl: string | undefined;
    const signal = abort.signal;

    // 3. Temporal.
    if (embedded) {
      const port = config.temporal.devServerPort;
      const uiPort = config.temporal.uiPort;
      const dbFile = config.temporal.dbFile ? temporalDbFile(config, env, opts.cwd ?? process.cwd()) : path.join(home, 'temporal.sqlite');
      temporalAddress = `127.0.0.1:${port}`;
      temporalUiUrl = `http://127.0.0.1:${uiPort}`;
      const binary = await resolveTemporalBinary({ env, allowSdkDownload: true, onProgress: (line) => log(`switchyard: ${line}`) });
      if (signal.aborted) throw signal.reason;
      if (binary.kind === 'path') {
        const temporal = makeChild('temporal', binary.path, devServerArgs({ dbFile, port, uiPort, namespace, ip: '127.0.0.1' }), {
          graceMs: grace.temporalMs,
        });
        temporal.start();
        log(`switchyard: starting Temporal dev server (${binary.path}, db ${dbFile})…`);
      } else {
        log('switchyard: no temporal CLI found; the Temporal SDK downloads the dev server (needs internet; it will not be restarted if it dies)…');
        sdkServer = await startSdkDevServer({ dbFile, port, uiPort, namespace, ip: '127.0.0.1' });
        if (signal.aborted) throw signal.reason;
      }
      await waitForTemporal(temporalAddress, {
        namespace,
        searchAttributes: SWITCHYARD_SEARCH_ATTRIBUTE_NAMES,
        timeoutMs: opts.temporalTimeoutMs ?? 120_000,
        signal,
        onWaiting: (line) => log(`switchyard: ${line}`),
      });
    } else {
      temporalAddress = config.temporal.address;
      log(`switchyard: connecting to Temporal at ${temporalAddress} (namespace ${namespace})…`);
      await waitForTemporal(temporalAddress, {
        namespace,
        security: temporalConnectionOptions(config, { cwd: opts.cwd ?? process.cwd(), env }),
        timeoutMs: opts.temporalTimeoutMs ?? Number.POSITIVE_INFINITY,
        signal,
        noticeEveryMs: 5_000,
        onWaiting: (line) => log(`switchyard: ${line} (is the server up? temporal.address=${temporalAddress})`),
      });
    }
    if (signal.aborted) throw signal.reason;

    // 4. Worker, then API: the same node (and loader, e.g. tsx) as this process.
    const entries = opts.entries ?? defaultEntries();
    const execArgv = opts.execArgv ?? inheritableExecArgv();
    const worker = makeChild('worker', process.execPath, [...entryExecArgv(entries.worker, execArgv), entries.worker, ...opts.flags], {
      env: withWorkerMallocTuning(childEnv),
      termTarget: 'leader', // the worker drains its own in-flight turns; its group is killed after the grace period
      graceMs: grace.workerMs,
    });
    worker.start();
    const api = makeChild('api', process.execPath, [...entryExecArgv(entries.api, execArgv), entries.api, ...opts.flags], { env: childEnv, graceMs: grace.apiMs });
    api.start();

    // 5. Wait for the API.
    const host = connectHost(bind);
    const apiBase = `http://${hostForUrl(host)}:${config.gateway.port}`;
    await waitForHealthz(`${apiBase}/healthz`, {
      timeoutMs: opts.apiTimeoutMs ?? 120_000,
      signal,
      isDead: () => api.state === 'crashed' || worker.state === 'crashed',
    });

    const shownHost = hostForUrl(bind);
    return {
      apiUrl: `http://${shownHost}:${config.gateway.port}`,
      wsUrl: `ws://${shownHost}:${config.gateway.port}/rpc`,
      temporalAddress,
      temporalUiUrl,
      namespace,
      logsDir,
    };
  };

  const ready = startup().then(
    (info) => {
      if (stopping) throw new GatewayStartError('stopped during startup');
      log(
        [
          'Switchyard is running',
          `  API:          ${info.apiUrl}`,
          `  WebSocket:    ${info.wsUrl}`,
          ...(info.temporalUiUrl ? [`  Temporal UI:  ${info.temporalUiUrl}`] : []),
          `  Temporal:     ${info.temporalAddress} (namespace ${info.namespace})`,
          `  Logs:         ${info.logsDir}`,
          'Ctrl-C to stop',
        ].join('\n'),
      );
      return info;
    },
    (err: unknown) => {
      if (!stopping) {
        const code = err instanceof GatewayStartError ? err.exitCode : 1;
        fail(`startup failed: ${err instanceof Error ? err.message : String(err)}`, code);
      }
      throw err instanceof Error ? err : new Error(String(err));
    },
  );
  // Callers that only await `done` must not see an unhandled rejection.
  ready.catch(() => undefined);

  return { stop, done, ready, children };
}

async function waitForHealthz(
  url: string,
  opts: { timeoutMs: number; signal: AbortSignal; isDead: () => boolean },
): Promise<void> {
  const started = Date.now();
  for (;;) {
    if (opts.signal.aborted) throw opts.signal.reason;
    if (opts.isDead()) throw new GatewayStartError('a child process stopped for good before the API became healthy');
    try {
      const res = await fetch(url, { signal: AbortSignal.any([opts.signal, AbortSignal.timeout(2_000)]) });
      await res.body?.cancel();
      if (res.ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() - started > opts.timeoutMs) {
      throw new GatewayStartError(`the API did not answer ${url} within ${Math.round(opts.timeoutMs / 1000)}s`);
    }
    await sleep(200, opts.signal);
  }
}

export type { ChildState };
