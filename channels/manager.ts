// The channel adapters of one API process: `channels.<name>` from the config, each a
// SupervisedChild (supervisor/child-process.ts) with the channel's restart policy, backoff with
// jitter, a per-hour restart limit and crash-loop breaker, its output in a ring buffer and in
// rotated files under $SWITCHYARD_HOME/logs/channels. Each adapter gets the gateway's RPC URL
// and a token of its own that opens only the adapter scope (api/rpc/scopes.ts).
//
// Operations on one channel run one after the other (a restart never races a stop); apply()
// takes a new `channels` section and touches only the channels whose config changed.
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { ChannelConfig } from '../config/channel-schema.js';
import { parseDuration } from '../config/duration.js';
import { tokensEqual } from '../api/auth.js';
import type { Check } from '../api/readiness.js';
import { ADAPTER_TOKEN_PREFIX, type RpcPrincipal } from '../api/rpc/scopes.js';
import { SupervisedChild, type ChildState, type OutputLine } from '../supervisor/child-process.js';
import { entryExecArgv } from '../supervisor/gateway-supervisor.js';
import { ChildrenRecorder, stopStaleChildren } from '../supervisor/stale-children.js';

/** What channels.list shows: four states, whatever the supervisor is doing in between. */
export type ChannelState = 'running' | 'stopped' | 'backoff' | 'crashed';

export interface ChannelView {
  name: string;
  state: ChannelState;
  pid: number | null;
  /** Milliseconds since the epoch, while running. */
  startedAt: number | null;
  uptimeMs: number | null;
  /** Restarts by the supervisor since the channel was last started by hand (or with the gateway). */
  restarts: number;
  lastExit: { code: number | null; signal: string | null; at: number } | null;
  required: boolean;
  autostart: boolean;
  /** Why it is crashed, stopped by itself or backing off. */
  reason: string | null;
  nextRestartAt: number | null;
  /** The adapter (built-in name or command), for people. */
  adapter: string;
  logFile: string;
}

export interface ApplyResult {
  added: string[];
  removed: string[];
  changed: string[];
  unchanged: string[];
}

export interface ChannelManagerOptions {
  channels: Record<string, ChannelConfig>;
  /** $SWITCHYARD_HOME: logs under logs/channels, adapter state under channels/<name>. */
  home: string;
  /** Where relative `cwd`s start: the directory the gateway was started in. */
  baseDir: string;
  logger: Logger;
  /** The environment adapters inherit (minus SWITCHYARD_*); default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Stop adapters a previous API process of this home left running (only under the instance lock). */
  cleanStale?: boolean;
  /** Told of restarts and state changes (the API's /metrics), so this module needs no metrics library. */
  observer?: ChannelObserver;
}

export interface ChannelObserver {
  restarted(channel: string): void;
  state(channel: string, state: ChannelState): void;
  removed(channel: string): void;
}

export class ChannelNotFoundError extends Error {
  constructor(readonly channel: string) {
    super(`no channel "${channel}" in the config`);
    this.name = 'ChannelNotFoundError';
  }
}

interface Managed {
  name: string;
  config: ChannelConfig;
  child: SupervisedChild | undefined;
  /** Serializes operations on this channel. */
  queue: Promise<unknown>;
}

const HOUR_MS = 3_600_000;

/** The file of a built-in adapter, next to this module with its extension (.ts under tsx, .js from dist/). */
export function builtinAdapterEntry(adapter: string): string {
  const ext = path.extname(fileURLToPath(import.meta.url));
  return fileURLToPath(new URL(`../adapters/${adapter}${ext}`, import.meta.url));
}

/** Key order does not matter: two configs are the same when their JSON is, keys sorted. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner !== null && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : inner,
  );
}

export class ChannelManager {
  private readonly channels = new Map<string, Managed>();
  /** One token per channel name for the life of this process, kept across config reloads. */
  private readonly tokens = new Map<string, string>();
  private url: string | undefined;
  private readonly logger: Logger;
  private readonly recorder: ChildrenRecorder;
  private readonly runFile: string;
  private closed = false;

  constructor(private readonly options: ChannelManagerOptions) {
    this.logger = options.logger.child({ component: 'channels' });
    this.runFile = path.join(options.home, 'run', 'channels.json');
    this.recorder = new ChildrenRecorder(options.home, { file: this.runFile, log: (line) => this.logger.warn(line) });
    for (const [name, config] of Object.entries(options.channels)) this.channels.set(name, { name, config, child: undefined, queue: Promise.resolve() });
  }

  get logsDir(): string {
    return path.join(this.options.home, 'logs', 'channels');
  }

  names(): string[] {
    return [...this.channels.keys()];
  }

  /** Called once the API listens: remembers its URL and starts the autostart channels. */
  async start(url: string): Promise<void> {
    this.url = url;
    if (this.options.cleanStale) {
      await stopStaleChildren(this.options.home, { file: this.runFile, graceMs: 5000, log: (line) => this.logger.warn(line) });
    }
    for (const managed of this.channels.values()) {
      if (managed.config.autostart) await this.enqueue(managed, () => this.doStart(managed));
    }
  }

  list(): ChannelView[] {
    return [...this.channels.values()].map((managed) => this.view(managed));
  }

  get(name: string): ChannelView {
    return this.view(this.find(name));
  }

  async startChannel(name: string): Promise<ChannelView> {
    const managed = this.find(name);
    await this.enqueue(managed, () => this.doStart(managed));
    return this.view(managed);
  }

  async stopChannel(name: string, graceMs?: number): Promise<ChannelView> {
    const managed = this.find(name);
    await this.enqueue(managed, () => this.doStop(managed, graceMs));
    return this.view(managed);
  }

  async restartChannel(name: string): Promise<ChannelView> {
    const managed = this.find(name);
    await this.enqueue(managed, async () => {
      await this.doStop(managed);
      this.doStart(managed);
    });
    return this.view(managed);
  }

  /** The last `lines` output lines (oldest first), of one stream or both. */
  logs(name: string, options: { lines?: number; stream?: 'stdout' | 'stderr' } = {}): { lines: OutputLine[]; logFile: string } {
    const managed = this.find(name);
    const all = managed.child?.recentLines() ?? [];
    const picked = options.stream ? all.filter((line) => line.stream === options.stream) : all;
    return { lines: picked.slice(-(options.lines ?? 100)), logFile: this.logFile(name) };
  }

  /** The adapter a token was given to, compared in constant time; undefined for any other token. */
  principalOf(token: string): RpcPrincipal | undefined {
    let found: string | undefined;
    for (const [name, expected] of this.tokens) if (tokensEqual(token, expected) && this.channels.has(name)) found = name;
    return found === undefined ? undefined : { scope: 'adapter', channel: found };
  }

  /** /readyz: every required channel is running. */
  readiness(): Check {
    const required = [...this.channels.values()].filter((managed) => managed.config.required);
    if (required.length === 0) return { ok: true, detail: 'no required channels' };
    const down = required.map((managed) => this.view(managed)).filter((view) => view.state !== 'running');
    if (down.length === 0) return { ok: true, detail: `required channels running: ${required.map((managed) => managed.name).join(', ')}` };
    return { ok: false, detail: `required channels not running: ${down.map((view) => `${view.name} (${view.state})`).join(', ')}` };
  }

  /**
   * Takes a new `channels` section (already validated): removed channels are stopped, new ones
   * started (when autostart), changed ones restarted with their new config; the others are
   * left alone.
   */
  async apply(next: Record<string, ChannelConfig>): Promise<ApplyResult> {
    const result: ApplyResult = { added: [], removed: [], changed: [], unchanged: [] };
    const work: Promise<unknown>[] = [];
    for (const managed of [...this.channels.values()]) {
      if (Object.hasOwn(next, managed.name)) continue;
      result.removed.push(managed.name);
      work.push(
        this.enqueue(managed, async () => {
          await this.doStop(managed);
          this.channels.delete(managed.name);
          this.tokens.delete(managed.name);
          this.options.observer?.removed(managed.name);
        }),
      );
    }
    for (const [name, config] of Object.entries(next)) {
      const managed = this.channels.get(name);
      if (!managed) {
        result.added.push(name);
        const added: Managed = { name, config, child: undefined, queue: Promise.resolve() };
        this.channels.set(name, added);
        if (config.autostart && this.url !== undefined) work.push(this.enqueue(added, () => this.doStart(added)));
        continue;
      }
      if (canonicalJson(managed.config) === canonicalJson(config)) {
        result.unchanged.push(name);
        continue;
      }
      result.changed.push(name);
      work.push(
        this.enqueue(managed, async () => {
          const active = managed.child !== undefined && ['starting', 'running', 'backoff'].includes(managed.child.state);
          await this.doStop(managed);
          managed.child?.removeAllListeners();
          managed.child = undefined;
          managed.config = config;
          if ((config.autostart || active) && this.url !== undefined) this.doStart(managed);
        }),
      );
    }
    await Promise.all(work);
    if (result.added.length + result.removed.length + result.changed.length > 0) {
      this.logger.info({ added: result.added, removed: result.removed, changed: result.changed }, 'channels: config applied');
    }
    return result;
  }

  /** Stops every adapter (the API is stopping). */
  async stopAll(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.channels.values()].map((managed) => this.enqueue(managed, () => this.doStop(managed))));
    this.recorder.clear();
  }

  private find(name: string): Managed {
    const managed = this.channels.get(name);
    if (!managed) throw new ChannelNotFoundError(name);
    return managed;
  }

  private enqueue<T>(managed: Managed, operation: () => T | Promise<T>): Promise<T> {
    const run = managed.queue.then(operation, operation);
    managed.queue = run.catch(() => undefined);
    return run;
  }

  private doStart(managed: Managed): void {
    if (this.closed) return;
    if (this.url === undefined) throw new Error('the channel manager has not been started');
    managed.child ??= this.makeChild(managed);
    managed.child.start();
  }

  private async doStop(managed: Managed, graceMs?: number): Promise<void> {
    await managed.child?.stop(graceMs === undefined ? {} : { graceMs });
  }

  private logFile(name: string): string {
    return path.join(this.logsDir, `${name}.log`);
  }

  private tokenOf(name: string): string {
    let token = this.tokens.get(name);
    if (!token) {
      token = `${ADAPTER_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
      this.tokens.set(name, token);
    }
    return token;
  }

  private makeChild(managed: Managed): SupervisedChild {
    const { name, config } = managed;
    const stateDir = path.join(this.options.home, 'channels', name);
    mkdirSync(stateDir, { recursive: true });
    const env: NodeJS.ProcessEnv = {};
    for (const [key, value] of Object.entries(this.options.env ?? process.env)) {
      if (value !== undefined && !key.startsWith('SWITCHYARD_')) env[key] = value;
    }
    Object.assign(env, config.env, {
      SWITCHYARD_URL: this.url,
      SWITCHYARD_TOKEN: this.tokenOf(name),
      SWITCHYARD_CHANNEL: name,
      SWITCHYARD_AGENT: config.agent,
      SWITCHYARD_CHANNEL_STATE: stateDir,
      SWITCHYARD_SUPERVISED: '1',
    });
    let command: string;
    let args: string[];
    if (config.adapter !== undefined) {
      const entry = builtinAdapterEntry(config.adapter);
      command = process.execPath;
      args = [...entryExecArgv(entry), entry, ...config.args];
    } else {
      command = config.command!;
      args = config.args;
    }
    const restart = config.restart;
    const child = new SupervisedChild({
      name,
      command,
      args,
      env,
      cwd: path.resolve(this.options.baseDir, config.cwd ?? '.'),
      logFile: this.logFile(name),
      logRotation: { maxBytes: config.logs.maxBytes, keep: config.logs.keep },
      ringSize: config.logs.lines,
      ...(config.stdin !== undefined ? { stdinFile: path.resolve(this.options.baseDir, config.stdin) } : {}),
      defaultGraceMs: parseDuration(config.stopGrace),
      restart: {
        policy: restart.policy,
        initialDelayMs: parseDuration(restart.initialDelay),
        maxDelayMs: parseDuration(restart.maxDelay),
        factor: restart.factor,
        jitter: restart.jitter,
        resetAfterMs: parseDuration(restart.resetAfter),
        crashLoop: { maxRestarts: restart.maxPerHour, windowMs: HOUR_MS },
      },
    });
    const log = this.logger.child({ channel: name });
    child.on('spawn', (pid) => {
      log.info({ pid }, 'channel adapter started');
      this.recorder.spawned(name, pid, [command, ...args]);
    });
    child.on('exit', (info) => {
      if (!info.expected) log.warn({ code: info.code, signal: info.signal, uptimeMs: info.uptimeMs }, 'channel adapter exited unexpectedly');
    });
    child.on('restart', (attempt, delayMs) => {
      log.info({ attempt, delayMs }, 'channel adapter restarted');
      this.options.observer?.restarted(name);
    });
    child.on('state', (next: ChildState) => this.options.observer?.state(name, publicState(next)));
    child.on('crashed', (reason) => log.error({ reason }, `channel adapter crashed and is not restarted; fix it, then \`switchyard channels start ${name}\``));
    return child;
  }

  private view(managed: Managed): ChannelView {
    const status = managed.child?.status();
    const state = publicState(status?.state ?? 'stopped');
    const running = state === 'running';
    const lastExit = status?.lastExit;
    return {
      name: managed.name,
      state,
      pid: running ? (status?.pid ?? null) : null,
      startedAt: running ? (status?.startedAt ?? null) : null,
      uptimeMs: running && status?.startedAt !== undefined ? Date.now() - status.startedAt : null,
      restarts: status?.restarts ?? 0,
      lastExit: lastExit ? { code: lastExit.code, signal: lastExit.signal, at: lastExit.at } : null,
      required: managed.config.required,
      autostart: managed.config.autostart,
      reason: status?.reason ?? null,
      nextRestartAt: status?.nextRestartAt ?? null,
      adapter: managed.config.adapter ?? managed.config.command ?? '',
      logFile: this.logFile(managed.name),
    };
  }
}

/** starting and stopping are moments of running. */
function publicState(state: ChildState): ChannelState {
  switch (state) {
    case 'starting':
    case 'running':
    case 'stopping':
      return 'running';
    default:
      return state;
  }
}
