// The embedded Temporal: arguments for `temporal server start-dev`, a readiness probe, and the
// SDK-download fallback (TestWorkflowEnvironment.createLocal) for machines without the CLI.
import { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTES } from '../contracts/names.js';
import { temporalConnectError, type TemporalConnectionOptions } from '../config/temporal-connection.js';

export type DevServerOptions = {
  /** SQLite file; the state survives restarts. */
  dbFile: string;
  /** gRPC frontend port. */
  port: number;
  /** Web UI port; ignored when headless. */
  uiPort?: number;
  /** Namespace created at launch ("default" always exists too). */
  namespace?: string;
  /** Address the frontend and UI bind to (default 127.0.0.1). */
  ip?: string;
  /** No Web UI. */
  headless?: boolean;
  logLevel?: 'debug' | 'info' | 'warn' | 'error' | 'never';
  logFormat?: 'json' | 'text';
};

/** Switchyard's Keyword search attributes, registered on every start (idempotent on an existing db). */
export const SWITCHYARD_SEARCH_ATTRIBUTE_NAMES: string[] = Object.values(SEARCH_ATTRIBUTES);

/** Arguments (after the binary) for `temporal server start-dev`. */
export function devServerArgs(opts: DevServerOptions): string[] {
  const args = [
    'server',
    'start-dev',
    '--ip',
    opts.ip ?? '127.0.0.1',
    '--port',
    String(opts.port),
    '--db-filename',
    opts.dbFile,
    '--namespace',
    opts.namespace ?? 'default',
  ];
  if (opts.headless) args.push('--headless');
  else if (opts.uiPort !== undefined) args.push('--ui-port', String(opts.uiPort));
  for (const name of SWITCHYARD_SEARCH_ATTRIBUTE_NAMES) args.push('--search-attribute', `${name}=Keyword`);
  args.push('--log-level', opts.logLevel ?? 'warn', '--log-format', opts.logFormat ?? 'json');
  return args;
}

export class TemporalUnreachableError extends Error {
  override name = 'TemporalUnreachableError';
}

export type WaitForTemporalOptions = {
  timeoutMs?: number;
  signal?: AbortSignal;
  /** When set, also wait until this namespace is described successfully. */
  namespace?: string;
  /** When set (with namespace), also wait until these search attributes are registered. */
  searchAttributes?: string[];
  /** Called once per `noticeEveryMs` while still waiting (a "waiting for Temporal at …" line). */
  onWaiting?: (message: string) => void;
  noticeEveryMs?: number;
  intervalMs?: number;
  /** TLS and API key of an external server (config/temporal-connection.ts). */
  security?: Omit<TemporalConnectionOptions, 'address'>;
};

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason ?? new Error('aborted'));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason ?? new Error('aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/** `promise`, or a rejection as soon as `signal` aborts (the listener is removed either way). */
function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason ?? new Error('aborted'));
    const onAbort = () => reject(signal.reason ?? new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** One probe: connects, asks for system info (and the namespace / search attributes when asked). Throws when not ready. */
export async function probeTemporal(
  address: string,
  opts: { namespace?: string; searchAttributes?: string[]; timeoutMs?: number; security?: Omit<TemporalConnectionOptions, 'address'> } = {},
): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 2_000;
  // lazy + ensureConnected (not connect) so that a failed attempt's channel is closed too.
  const connection = Connection.lazy({ ...opts.security, address, connectTimeout: timeoutMs });
  try {
    await connection.ensureConnected().catch((error: unknown) => {
      throw opts.security ? temporalConnectError(error, { ...opts.security, address }) : error;
    });
    await connection.withDeadline(Date.now() + timeoutMs, () => connection.workflowService.getSystemInfo({}));
    if (opts.namespace) {
      const namespace = opts.namespace;
      await connection.withDeadline(Date.now() + timeoutMs, () => connection.workflowService.describeNamespace({ namespace }));
      if (opts.searchAttributes?.length) {
        const listed = await connection.withDeadline(Date.now() + timeoutMs, () =>
          connection.operatorService.listSearchAttributes({ namespace }),
        );
        const missing = opts.searchAttributes.filter((name) => !(name in (listed.customAttributes ?? {})));
        if (missing.length) throw new Error(`search attributes not registered yet: ${missing.join(', ')}`);
      }
    }
  } finally {
    await connection.close().catch(() => undefined);
  }
}

/** Polls until Temporal at `address` answers; throws TemporalUnreachableError after timeoutMs (default 60 s). */
export async function waitForTemporal(address: string, opts: WaitForTemporalOptions = {}): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const intervalMs = opts.intervalMs ?? 250;
  const noticeEveryMs = opts.noticeEveryMs ?? 5_000;
  const started = Date.now();
  let lastNotice = started;
  let lastError: unknown;
  for (;;) {
    if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('aborted');
    const remaining = timeoutMs - (Date.now() - started);
    try {
      const probe = probeTemporal(address, {
        namespace: opts.namespace,
        searchAttributes: opts.searchAttributes,
        timeoutMs: Math.max(250, Math.min(2_000, remaining)),
        ...(opts.security ? { security: opts.security } : {}),
      });
      await raceAbort(probe, opts.signal);
      return;
    } catch (err) {
      if (opts.signal?.aborted) throw opts.signal.reason ?? err;
      lastError = err;
    }
    const elapsed = Date.now() - started;
    if (elapsed >= timeoutMs) {
      const reason = lastError instanceof Error ? lastError.message : String(lastError);
      throw new TemporalUnreachableError(`Temporal at ${address} did not answer within ${Math.round(timeoutMs / 1000)}s (last error: ${reason})`);
    }
    if (opts.onWaiting && Date.now() - lastNotice >= noticeEveryMs) {
      lastNotice = Date.now();
      opts.onWaiting(`waiting for Temporal at ${address}… ${Math.round(elapsed / 1000)}s`);
    }
    await sleep(Math.min(intervalMs, Math.max(0, timeoutMs - elapsed)), opts.signal);
  }
}

/** A dev server the Temporal SDK downloads and runs itself (online only). It cannot be restarted by the supervisor. */
export type SdkDevServer = { address: string; stop(): Promise<void> };

export async function startSdkDevServer(opts: Omit<DevServerOptions, 'logFormat' | 'logLevel'>): Promise<SdkDevServer> {
  // @temporalio/testing is a dev dependency: load it only in this fallback.
  let testing: typeof import('@temporalio/testing');
  let common: typeof import('@temporalio/common');
  try {
    testing = await import('@temporalio/testing');
    common = await import('@temporalio/common');
  } catch (err) {
    throw new Error(
      `the SDK-download dev server needs @temporalio/testing (${(err as Error).message}); install it, or provide the temporal CLI (SWITCHYARD_TEMPORAL_BIN or PATH)`,
    );
  }
  const env = await testing.TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'cached-download' },
      dbFilename: opts.dbFile,
      ip: opts.ip ?? '127.0.0.1',
      port: opts.port,
      namespace: opts.namespace ?? 'default',
      ui: !opts.headless,
      ...(opts.headless || opts.uiPort === undefined ? {} : { uiPort: opts.uiPort }),
      log: { format: 'json', level: 'warn' },
      searchAttributes: SWITCHYARD_SEARCH_ATTRIBUTE_NAMES.map((name) => common.defineSearchAttributeKey(name, common.SearchAttributeType.KEYWORD)),
    },
  });
  return { address: env.address, stop: () => env.teardown() };
}
