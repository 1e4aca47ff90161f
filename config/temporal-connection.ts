// How every Switchyard process dials Temporal: address, TLS and API key from `temporal.*`.
// One mapping for the API's client, the worker's native and client connections and the
// supervisor's readiness probe, so that a Temporal Cloud or TLS setting cannot reach one of
// them and miss another.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { TLSConfig } from '@temporalio/client';
import { ConfigError } from './errors.js';
import { expandHome, temporalAddress } from './paths.js';
import type { Config } from './schema.js';

/** What both `Connection` (@temporalio/client) and `NativeConnection` (@temporalio/worker) accept. */
export interface TemporalConnectionOptions {
  address: string;
  /** Absent: plain gRPC. */
  tls?: TLSConfig;
  apiKey?: string;
}

export interface ConnectionOptionsIO {
  /** Relative certificate paths resolve against it (default process.cwd()). */
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  readFile?: (file: string) => Buffer;
}

/**
 * The connection options of `config.temporal`. Certificate files are read here, at connect
 * time, so a rotated certificate is picked up by the next process start; a file that cannot
 * be read is a ConfigError (exit 78) naming the key and the file, never the contents.
 */
export function temporalConnectionOptions(config: Pick<Config, 'temporal'>, io: ConnectionOptionsIO = {}): TemporalConnectionOptions {
  const { tls, apiKey } = config.temporal;
  const options: TemporalConnectionOptions = { address: temporalAddress(config) };
  if (apiKey !== undefined) options.apiKey = apiKey;
  if (tls !== undefined && tls.enabled) {
    const read = (key: 'serverRootCACertFile' | 'clientCertFile' | 'clientKeyFile'): Buffer | undefined => {
      const file = tls[key];
      if (file === undefined) return undefined;
      const resolved = path.resolve(io.cwd ?? process.cwd(), expandHome(file, io.env ?? process.env));
      try {
        return (io.readFile ?? readFileSync)(resolved);
      } catch (error) {
        throw new ConfigError({ path: `temporal.tls.${key}`, message: `cannot read ${resolved}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` });
      }
    };
    const serverRootCACertificate = read('serverRootCACertFile');
    const crt = read('clientCertFile');
    const key = read('clientKeyFile');
    options.tls = {
      ...(tls.serverName !== undefined ? { serverNameOverride: tls.serverName } : {}),
      ...(serverRootCACertificate ? { serverRootCACertificate } : {}),
      ...(crt && key ? { clientCertPair: { crt, key } } : {}),
    };
  } else if (apiKey !== undefined && tls === undefined) {
    // An API key is a bearer credential: never over plain gRPC (Temporal Cloud refuses it too).
    options.tls = {};
  }
  return options;
}

/** A one-line description for logs: the address and how it is secured, never a secret. */
export function describeTemporalConnection(options: TemporalConnectionOptions): string {
  const security = options.tls ? (options.tls.clientCertPair ? 'mTLS' : 'TLS') : 'plain';
  return `${options.address} (${security}${options.apiKey !== undefined ? ', API key' : ''})`;
}

/**
 * A connection failure with what was dialled and the likely cause. A TLS client at a plain
 * server (and the reverse) fails with transport errors that name neither TLS nor the config
 * ("InvalidContentType", "Failed to connect before the deadline").
 */
export function temporalConnectError(error: unknown, options: TemporalConnectionOptions): Error {
  const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
  const hint = options.tls
    ? 'TLS is on (temporal.tls or temporal.apiKey): check that the server speaks TLS at this address and that its certificate matches temporal.tls.serverName / serverRootCACertFile'
    : 'TLS is off: a server that requires TLS (Temporal Cloud, a TLS cluster) needs temporal.tls or temporal.apiKey';
  return new Error(`cannot connect to Temporal at ${describeTemporalConnection(options)}: ${reason}. ${hint}`, { cause: error });
}
