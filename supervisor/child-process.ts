// One long-lived child process under supervision: spawned in its own process group, output
// appended to a log file and kept in a ring buffer of recent lines, restarted with exponential
// backoff when it dies unexpectedly, and stopped with SIGTERM, a grace period, then SIGKILL of
// the whole group. Generic on purpose: the gateway uses it for Temporal, the worker and the API;
// channel adapters reuse it with their own restart policy.
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { closeSync, constants as fsConstants, fstatSync, openSync } from 'node:fs';
import { groupRunning } from './processes.js';
import { RotatingLog, type RotationOptions } from './rotating-log.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export type ChildState = 'starting' | 'running' | 'backoff' | 'stopping' | 'stopped' | 'crashed';

/** `always`: restart after any unexpected exit; `on-failure`: only after a non-zero exit or a signal; `never`. */
export type RestartPolicy = 'always' | 'on-failure' | 'never';

/** Exit code (sysexits EX_CONFIG) meaning "my configuration is wrong": restarting will not help. */
export const EXIT_CONFIG_ERROR = 78;

export type RestartOptions = {
  policy?: RestartPolicy;
  /** First backoff delay (default 500 ms), multiplied by `factor` (default 2) per consecutive restart, capped at `maxDelayMs` (default 30 s). */
  initialDelayMs?: number;
  maxDelayMs?: number;
  factor?: number;
  /** A child that ran at least this long before exiting starts the backoff over (default 60 s). */
  resetAfterMs?: number;
  /** Exit codes that never restart; the state becomes `crashed` (default [78]). */
  noRestartExitCodes?: number[];
  /** Crash-loop breaker: more than `maxRestarts` restarts within `windowMs` → `crashed`. Off unless set. */
  crashLoop?: { maxRestarts: number; windowMs: number };
  /** Random spread of each delay, as a fraction (0.2: between 80% and 120%); default 0. */
  jitter?: number;
  /** Source of randomness for the jitter (tests); default Math.random. */
  random?: () => number;
};

export type SupervisedChildOptions = {
  /** Short name used in log markers and messages ("worker", "api", "temporal", a channel name). */
  name: string;
  command: string;
  args?: string[];
  /** The full environment of the child (default: this process's env). */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** stdout and stderr are appended here (the directory is created). */
  logFile?: string;
  /** Size-based rotation of `logFile` (default: none). */
  logRotation?: RotationOptions;
  /**
   * A file or FIFO opened (at each spawn) as the child's stdin; default none (/dev/null). A
   * FIFO is opened read-write so that neither side blocks and the child never sees end of
   * file when a writer goes away: writers may come and go.
   */
  stdinFile?: string;
  /** Recent output lines kept in memory (default 200). */
  ringSize?: number;
  restart?: RestartOptions;
  /**
   * Whom SIGTERM goes to on stop(): the whole process group (default) or first only the child
   * itself, for children that shut their own children down gracefully (a draining worker); the
   * rest of the group then gets SIGTERM once the child has exited. Whatever is left when the
   * grace period ends gets SIGKILL, always to the whole group.
   */
  termTarget?: 'group' | 'leader';
  /** Grace period of stop() when none is given (default 10 s). */
  defaultGraceMs?: number;
};

export type ExitInfo = { code: number | null; signal: NodeJS.Signals | null; at: number; uptimeMs: number; expected: boolean };

export type OutputLine = { stream: 'stdout' | 'stderr'; line: string; ts: number };

export type ChildStatus = {
  name: string;
  state: ChildState;
  pid: number | undefined;
  restarts: number;
  startedAt: number | undefined;
  lastExit: ExitInfo | undefined;
  nextRestartAt: number | undefined;
  reason: string | undefined;
};

export interface SupervisedChild {
  on(event: 'state', listener: (state: ChildState, previous: ChildState) => void): this;
  on(event: 'spawn', listener: (pid: number) => void): this;
  on(event: 'exit', listener: (info: ExitInfo) => void): this;
  on(event: 'restart', listener: (attempt: number, delayMs: number) => void): this;
  on(event: 'crashed', listener: (reason: string) => void): this;
  on(event: 'line', listener: (line: OutputLine) => void): this;
  once(event: 'state', listener: (state: ChildState, previous: ChildState) => void): this;
  once(event: 'spawn', listener: (pid: number) => void): this;
  once(event: 'exit', listener: (info: ExitInfo) => void): this;
  once(event: 'restart', listener: (attempt: number, delayMs: number) => void): this;
  once(event: 'crashed', listener: (reason: string) => void): this;
  once(event: 'line', listener: (line: OutputLine) => void): this;
}

export class SupervisedChild extends EventEmitter {
  readonly name: string;
  private readonly opts: SupervisedChildOptions;
  private readonly restartOpts: Required<Omit<RestartOptions, 'crashLoop'>> & Pick<RestartOptions, 'crashLoop'>;
  private _state: ChildState = 'stopped';
  private child: ChildProcess | undefined;
  private pgid: number | undefined;
  private exited: Promise<ExitInfo> | undefined;
  private startedAt: number | undefined;
  private lastExit: ExitInfo | undefined;
  private reason: string | undefined;
  private consecutive = 0;
  private restartTimes: number[] = [];
  private backoffTimer: NodeJS.Timeout | undefined;
  private nextRestartAt: number | undefined;
  private log: RotatingLog | undefined;
  private readonly ring: OutputLine[] = [];
  private stopping: Promise<void> | undefined;
  /** Number of restarts since start(). */
  restarts = 0;

  constructor(opts: SupervisedChildOptions) {
    super();
    this.name = opts.name;
    this.opts = opts;
    const r = opts.restart ?? {};
    this.restartOpts = {
      policy: r.policy ?? 'always',
      initialDelayMs: r.initialDelayMs ?? 500,
      maxDelayMs: r.maxDelayMs ?? 30_000,
      factor: r.factor ?? 2,
      resetAfterMs: r.resetAfterMs ?? 60_000,
      noRestartExitCodes: r.noRestartExitCodes ?? [EXIT_CONFIG_ERROR],
      crashLoop: r.crashLoop,
      jitter: r.jitter ?? 0,
      random: r.random ?? Math.random,
    };
  }

  get state(): ChildState {
    return this._state;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  status(): ChildStatus {
    return {
      name: this.name,
      state: this._state,
      pid: this.child?.pid,
      restarts: this.restarts,
      startedAt: this.startedAt,
      lastExit: this.lastExit,
      nextRestartAt: this.nextRestartAt,
      reason: this.reason,
    };
  }

  /** The last `n` output lines (default all kept), oldest first. */
  recentLines(n?: number): OutputLine[] {
    return n === undefined ? [...this.ring] : this.ring.slice(-n);
  }

  /** Starts the child (no-op while it is already starting, running or backing off). */
  start(): void {
    if (this._state === 'starting' || this._state === 'running' || this._state === 'backoff') return;
    if (this._state === 'stopping') throw new Error(`${this.name} is stopping; wait for stop() before starting it again`);
    this.restarts = 0;
    this.consecutive = 0;
    this.restartTimes = [];
    this.reason = undefined;
    this.openLog();
    this.spawnChild();
  }

  /**
   * Stops the child: SIGTERM (to the group, or the leader with termTarget 'leader'), up to
   * `graceMs` for it to exit, then SIGKILL to the whole group. Resolves once it has exited.
   */
  stop(opts: { graceMs?: number } = {}): Promise<void> {
    if (this.stopping) return this.stopping;
    const graceMs = opts.graceMs ?? this.opts.defaultGraceMs ?? 10_000;
    this.stopping = this.doStop(graceMs).finally(() => {
      this.stopping = undefined;
    });
    return this.stopping;
  }

  /** SIGKILL to the whole process group right now (e.g. a second Ctrl-C). stop() still resolves normally. */
  kill(): void {
    this.signalGroup('SIGKILL');
  }

  private async doStop(graceMs: number): Promise<void> {
    this.clearBackoff();
    const child = this.child;
    const exited = this.exited;
    if (!child || !exited || this.lastExitOf(child)) {
      if (this._state !== 'crashed') this.setState('stopped');
      this.closeLog();
      return;
    }
    this.setState('stopping');
    this.marker(`stopping (SIGTERM, grace ${graceMs} ms)`);
    if ((this.opts.termTarget ?? 'group') === 'group') this.signalGroup('SIGTERM');
    else this.signalLeader('SIGTERM');
    const deadline = Date.now() + graceMs;
    let timer: NodeJS.Timeout | undefined;
    const inTime = await Promise.race([
      exited.then(() => true),
      new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), graceMs);
      }),
    ]);
    clearTimeout(timer);
    if (inTime) {
      // The child is gone; what it left in its group gets the rest of the grace period.
      if (this.opts.termTarget === 'leader' && groupRunning(this.pgid)) this.signalGroup('SIGTERM');
      while (Date.now() < deadline && groupRunning(this.pgid)) await sleep(50);
      if (groupRunning(this.pgid)) this.marker('processes left in the group; SIGKILL');
    } else {
      this.marker(`did not exit within ${graceMs} ms; SIGKILL`);
    }
    this.signalGroup('SIGKILL');
    this.pgid = undefined;
    await exited;
    this.setState('stopped');
    this.closeLog();
  }

  private lastExitOf(child: ChildProcess): boolean {
    return child.exitCode !== null || child.signalCode !== null;
  }

  private spawnChild(): void {
    this.setState('starting');
    let child: ChildProcess;
    let stdin: number | 'ignore' = 'ignore';
    try {
      if (this.opts.stdinFile !== undefined) stdin = openStdin(this.opts.stdinFile);
      child = spawn(this.opts.command, this.opts.args ?? [], {
        env: this.opts.env ?? process.env,
        cwd: this.opts.cwd,
        detached: true, // own process group (and session), so the whole tree can be signalled
        stdio: [stdin, 'pipe', 'pipe'],
      });
    } catch (err) {
      this.crash(`cannot spawn ${this.opts.command}: ${(err as Error).message}`);
      return;
    } finally {
      // The child has its own copy; ours would keep a FIFO open for nothing.
      if (typeof stdin === 'number') closeSync(stdin);
    }
    this.child = child;
    this.pgid = child.pid;
    const startedAt = Date.now();
    this.startedAt = startedAt;
    let resolveExit!: (info: ExitInfo) => void;
    this.exited = new Promise<ExitInfo>((resolve) => {
      resolveExit = resolve;
    });
    let spawnFailed = false;

    this.pipeLines(child.stdout, 'stdout');
    this.pipeLines(child.stderr, 'stderr');

    child.once('spawn', () => {
      this.marker(`started pid ${child.pid}: ${[this.opts.command, ...(this.opts.args ?? [])].join(' ')}`);
      if (this._state === 'starting') this.setState('running');
      this.emit('spawn', child.pid!);
    });
    child.once('error', (err) => {
      // Spawn failures (ENOENT, EACCES) produce 'error' and no 'exit'.
      if (child.pid === undefined) {
        spawnFailed = true;
        const info: ExitInfo = { code: null, signal: null, at: Date.now(), uptimeMs: 0, expected: false };
        this.lastExit = info;
        resolveExit(info);
        if (this.child === child) this.child = undefined;
        this.crash(`cannot start ${this.opts.command}: ${err.message}`);
      } else {
        this.marker(`process error: ${err.message}`);
      }
    });
    child.once('exit', (code, signal) => {
      if (spawnFailed) return;
      const expected = this._state === 'stopping';
      const info: ExitInfo = { code, signal, at: Date.now(), uptimeMs: Date.now() - startedAt, expected };
      this.lastExit = info;
      this.marker(`exited ${signal ? `on ${signal}` : `with code ${code}`} after ${info.uptimeMs} ms${expected ? '' : ' (unexpected)'}`);
      if (!expected) {
        // Whatever a crashed child left behind in its group goes with it. (During stop(), the
        // group gets the rest of the grace period first.)
        this.signalGroup('SIGKILL');
        this.pgid = undefined;
      }
      this.emit('exit', info);
      resolveExit(info);
      if (!expected) this.onUnexpectedExit(info);
    });
  }

  private onUnexpectedExit(info: ExitInfo): void {
    const r = this.restartOpts;
    const what = info.signal ? `killed by ${info.signal}` : `exited with code ${info.code}`;
    if (info.code !== null && r.noRestartExitCodes.includes(info.code)) {
      const hint = info.code === EXIT_CONFIG_ERROR ? ' (configuration error; fix it and start again)' : '';
      const last = this.ring.filter((l) => l.stream === 'stderr').slice(-5).map((l) => l.line).join('\n');
      this.crash(`${this.name} ${what}${hint}${last ? `:\n${last}` : ''}`);
      return;
    }
    const failed = info.signal !== null || info.code !== 0;
    if (r.policy === 'never' || (r.policy === 'on-failure' && !failed)) {
      if (failed) this.crash(`${this.name} ${what}`);
      else {
        this.reason = `${this.name} exited with code 0`;
        this.setState('stopped');
      }
      return;
    }
    if (info.uptimeMs >= r.resetAfterMs) this.consecutive = 0;
    const now = Date.now();
    if (r.crashLoop) {
      this.restartTimes = this.restartTimes.filter((t) => now - t < r.crashLoop!.windowMs);
      if (this.restartTimes.length >= r.crashLoop.maxRestarts) {
        this.crash(`${this.name} is crash-looping: ${this.restartTimes.length} restarts within ${r.crashLoop.windowMs} ms; last ${what}`);
        return;
      }
    }
    const baseMs = Math.min(r.maxDelayMs, r.initialDelayMs * r.factor ** this.consecutive);
    const delayMs = Math.max(0, Math.round(baseMs * (1 + r.jitter * (2 * r.random() - 1))));
    this.consecutive += 1;
    this.reason = `${what}; restarting in ${delayMs} ms`;
    this.nextRestartAt = now + delayMs;
    this.setState('backoff');
    this.marker(this.reason);
    this.backoffTimer = setTimeout(() => {
      this.backoffTimer = undefined;
      this.nextRestartAt = undefined;
      if (this._state !== 'backoff') return;
      this.restarts += 1;
      this.restartTimes.push(Date.now());
      this.emit('restart', this.restarts, delayMs);
      this.spawnChild();
    }, delayMs);
  }

  private crash(reason: string): void {
    this.clearBackoff();
    this.reason = reason;
    this.marker(`crashed: ${reason}`);
    this.setState('crashed');
    this.emit('crashed', reason);
  }

  private clearBackoff(): void {
    if (this.backoffTimer) clearTimeout(this.backoffTimer);
    this.backoffTimer = undefined;
    this.nextRestartAt = undefined;
  }

  private setState(next: ChildState): void {
    const previous = this._state;
    if (previous === next) return;
    this._state = next;
    this.emit('state', next, previous);
  }

  private signalGroup(signal: NodeJS.Signals): void {
    const pgid = this.pgid;
    if (pgid === undefined) return;
    try {
      process.kill(-pgid, signal);
    } catch {
      // ESRCH: the group is already empty.
    }
  }

  private signalLeader(signal: NodeJS.Signals): void {
    try {
      this.child?.kill(signal);
    } catch {
      // already gone
    }
  }

  private pipeLines(stream: NodeJS.ReadableStream | null, name: 'stdout' | 'stderr'): void {
    if (!stream) return;
    let partial = '';
    stream.on('data', (chunk: Buffer | string) => {
      const text = chunk.toString();
      this.log?.write(text);
      const parts = (partial + text).split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) this.remember(name, line.endsWith('\r') ? line.slice(0, -1) : line);
      if (partial.length > 64 * 1024) {
        this.remember(name, partial);
        partial = '';
      }
    });
    stream.on('end', () => {
      if (partial) {
        this.log?.write('\n');
        this.remember(name, partial);
      }
      partial = '';
    });
    stream.on('error', () => undefined);
  }

  private remember(stream: 'stdout' | 'stderr', line: string): void {
    const entry: OutputLine = { stream, line, ts: Date.now() };
    this.ring.push(entry);
    const max = this.opts.ringSize ?? 200;
    if (this.ring.length > max) this.ring.splice(0, this.ring.length - max);
    this.emit('line', entry);
  }

  /** A supervisor line in the log file (not in the ring buffer). */
  private marker(text: string): void {
    this.log?.write(`[switchyard ${new Date().toISOString()}] ${this.name}: ${text}\n`);
  }

  private openLog(): void {
    if (this.log || !this.opts.logFile) return;
    this.log = new RotatingLog(this.opts.logFile, this.opts.logRotation);
  }

  private closeLog(): void {
    const log = this.log;
    this.log = undefined;
    log?.end();
  }
}

/** Opens a child's stdin: a FIFO read-write (opening it read-only would wait for a writer), anything else read-only. */
function openStdin(file: string): number {
  const fd = openSync(file, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  try {
    if (!fstatSync(fd).isFIFO()) return fd;
  } catch (error) {
    closeSync(fd);
    throw error;
  }
  closeSync(fd);
  return openSync(file, fsConstants.O_RDWR);
}
