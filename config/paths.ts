// Where Switchyard keeps its state, and the addresses derived from config.
import os from 'node:os';
import path from 'node:path';
import type { Config } from './schema.js';

function homeDir(env: NodeJS.ProcessEnv): string {
  return env.HOME || env.USERPROFILE || os.homedir();
}

/** `~` and `~/x` expand to the user's home directory. */
export function expandHome(file: string, env: NodeJS.ProcessEnv = process.env): string {
  if (file === '~') return homeDir(env);
  if (file.startsWith('~/') || file.startsWith('~\\')) return path.join(homeDir(env), file.slice(2));
  return file;
}

/** The state directory: `$SWITCHYARD_HOME`, default `~/.switchyard`. Always absolute. */
export function switchyardHome(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env.SWITCHYARD_HOME;
  if (configured) return path.resolve(expandHome(configured, env));
  return path.join(homeDir(env), '.switchyard');
}

/** The user config file, `$SWITCHYARD_HOME/config.yaml`. */
export function userConfigFile(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(switchyardHome(env), 'config.yaml');
}

/** The gRPC address clients and workers dial: the embedded dev server's port on loopback, or the configured host:port. */
export function temporalAddress(config: Pick<Config, 'temporal'>): string {
  const { address, devServerPort } = config.temporal;
  return address === 'embedded' ? `127.0.0.1:${devServerPort}` : address;
}

/** True when `switchyard start` runs the Temporal dev server itself. */
export function isEmbeddedTemporal(config: Pick<Config, 'temporal'>): boolean {
  return config.temporal.address === 'embedded';
}

/** The embedded dev server's SQLite file: `temporal.dbFile` (relative to `cwd`), default `$SWITCHYARD_HOME/temporal.sqlite`. */
export function temporalDbFile(
  config: Pick<Config, 'temporal'>,
  env: NodeJS.ProcessEnv = process.env,
  cwd: string = process.cwd(),
): string {
  const configured = config.temporal.dbFile;
  if (configured) return path.resolve(cwd, expandHome(configured, env));
  return path.join(switchyardHome(env), 'temporal.sqlite');
}

/** How a process on this machine reaches the gateway: a wildcard bind is reached on loopback. */
export function gatewayHost(config: Pick<Config, 'gateway'>): string {
  const { bind } = config.gateway;
  if (bind === '0.0.0.0' || bind === '::' || bind === '') return '127.0.0.1';
  return bind.includes(':') ? `[${bind}]` : bind;
}
