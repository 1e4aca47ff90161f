// Children left behind by a supervisor that died without stopping them (SIGKILL, OOM killer).
//
// The supervisor records every child it spawns in `$SWITCHYARD_HOME/run/children.json`: name,
// pid, the process's start time (field 22 of /proc/<pid>/stat, clock ticks since boot) and its
// command line. The worker and the API notice on their own that their parent is gone (see
// orphan-guard.ts), but the Temporal dev server does not, and it keeps its ports and its SQLite
// file. So the next `switchyard start`, once it holds the instance lock (which proves no live
// supervisor owns the home), stops every recorded child that is still the same process: same
// pid, same start time, same command line. Anything else (a reused pid, a zombie, a process that
// is gone) is left alone.
//
// Linux only: without /proc a process cannot be told apart from a later one with the same pid,
// so nothing is recorded and nothing is stopped.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { groupRunning, isZombie, processRunning, readCmdline, readProcStat } from './processes.js';
import path from 'node:path';

export type ChildRecord = {
  /** The supervised child's name (temporal, worker, api). */
  name: string;
  pid: number;
  /** Field 22 of /proc/<pid>/stat (clock ticks since boot), as text. */
  startTime: string;
  /** argv of the process (command first). */
  cmdline: string[];
};

export type ChildrenFile = {
  version: 1;
  supervisorPid: number;
  updatedAt: string;
  children: ChildRecord[];
};

export type StaleOutcome = {
  name: string;
  pid: number;
  /**
   * `stopped`: exited after SIGTERM; `killed`: needed SIGKILL; `survived`: still there after
   * SIGKILL; `gone`: no longer running (or a zombie); `other-process`: the pid now belongs to
   * another process (different start time or command line), left alone.
   */
  outcome: 'stopped' | 'killed' | 'survived' | 'gone' | 'other-process';
};

/** `$home/run/children.json`. */
export function childrenFilePath(home: string): string {
  return path.join(home, 'run', 'children.json');
}

/**
 * Keeps `children.json` up to date for one supervisor: spawned() on every spawn and restart
 * rewrites the file, clear() on a clean stop removes it. Never throws: a failure is logged once
 * per call and the supervisor carries on (the file only helps the next start clean up).
 */
export class ChildrenRecorder {
  readonly file: string;
  private readonly records = new Map<string, ChildRecord>();
  private readonly supervisorPid: number;
  private readonly log: (line: string) => void;

  constructor(home: string, opts: { supervisorPid?: number; log?: (line: string) => void; file?: string } = {}) {
    this.file = opts.file ?? childrenFilePath(home);
    this.supervisorPid = opts.supervisorPid ?? process.pid;
    this.log = opts.log ?? (() => undefined);
  }

  /** Records (or replaces) the child `name`, now running as `pid` with argv `cmdline`. */
  spawned(name: string, pid: number, cmdline: string[]): void {
    const stat = readProcStat(pid);
    if (!stat || !processRunning(pid)) {
      // Already gone (or no /proc): nothing that could be left behind under this name.
      this.records.delete(name);
    } else {
      this.records.set(name, { name, pid, startTime: stat.startTime, cmdline });
    }
    this.write();
  }

  /** The records as last written, by name. */
  current(): ChildRecord[] {
    return [...this.records.values()];
  }

  /** Removes the file (a clean stop: nothing is left behind). */
  clear(): void {
    this.records.clear();
    try {
      rmSync(this.file, { force: true });
    } catch (err) {
      this.log(`switchyard: cannot remove ${this.file}: ${(err as Error).message}`);
    }
  }

  private write(): void {
    const body: ChildrenFile = {
      version: 1,
      supervisorPid: this.supervisorPid,
      updatedAt: new Date().toISOString(),
      children: this.current(),
    };
    const tmp = `${this.file}.${process.pid}.tmp`;
    try {
      mkdirSync(path.dirname(this.file), { recursive: true });
      writeFileSync(tmp, `${JSON.stringify(body, null, 2)}\n`);
      renameSync(tmp, this.file);
    } catch (err) {
      this.log(`switchyard: cannot record the child processes in ${this.file}: ${(err as Error).message}`);
      try {
        rmSync(tmp, { force: true });
      } catch {
        // nothing to clean up
      }
    }
  }
}

/** The records of `$home/run/children.json`; [] when there is none or it cannot be read. */
export function readChildrenFile(home: string, file: string = childrenFilePath(home)): ChildRecord[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return [];
  }
  const children = (parsed as Partial<ChildrenFile> | null)?.children;
  if (!Array.isArray(children)) return [];
  return children.filter(
    (c): c is ChildRecord =>
      typeof c === 'object' &&
      c !== null &&
      typeof c.name === 'string' &&
      Number.isInteger(c.pid) &&
      c.pid > 1 &&
      typeof c.startTime === 'string' &&
      Array.isArray(c.cmdline) &&
      c.cmdline.every((arg: unknown) => typeof arg === 'string'),
  );
}

/** Whether `record` still describes a live process: same pid, same start time, same argv. */
export function matchesLiveProcess(record: ChildRecord): 'alive' | 'gone' | 'other-process' {
  const stat = readProcStat(record.pid);
  if (stat === undefined || !processRunning(record.pid)) return 'gone';
  if (stat.startTime !== record.startTime) return 'other-process';
  // Exiting (main thread a zombie, other threads still running): its argv is no longer readable,
  // but the start time is that of our child; it is stopped (and waited for) like a live one.
  if (isZombie(stat.state)) return 'alive';
  const cmdline = readCmdline(record.pid);
  if (cmdline === undefined) return 'gone';
  if (cmdline.length !== record.cmdline.length || cmdline.some((arg, i) => arg !== record.cmdline[i])) return 'other-process';
  return 'alive';
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Stop order, as in the supervisor's own shutdown: the API, the worker, then Temporal. */
const ORDER = ['api', 'worker', 'temporal'];

/**
 * Stops the children recorded by a supervisor that died: for each one that is still the same
 * process, SIGTERM to its process group, up to `graceMs` (default 10 s) for the group to empty,
 * then SIGKILL. Call it only while holding the instance lock. The file is removed afterwards
 * (unless something survived SIGKILL).
 */
export async function stopStaleChildren(
  home: string,
  opts: { log?: (line: string) => void; graceMs?: number; file?: string } = {},
): Promise<StaleOutcome[]> {
  const file = opts.file ?? childrenFilePath(home);
  const log = opts.log ?? (() => undefined);
  const graceMs = opts.graceMs ?? 10_000;
  const rank = (name: string) => (ORDER.includes(name) ? ORDER.indexOf(name) : ORDER.length);
  const records = readChildrenFile(home, file).sort((a, b) => rank(a.name) - rank(b.name));
  const outcomes: StaleOutcome[] = [];
  for (const record of records) {
    const match = matchesLiveProcess(record);
    if (match !== 'alive') {
      outcomes.push({ name: record.name, pid: record.pid, outcome: match });
      continue;
    }
    log(`switchyard: stopping a leftover ${record.name} (pid ${record.pid}) from a supervisor that died`);
    outcomes.push({ name: record.name, pid: record.pid, outcome: await stopProcessGroup(record, graceMs, log) });
  }
  // Kept while something survived SIGKILL, so that the next start tries again.
  if (!outcomes.some((o) => o.outcome === 'survived')) {
    try {
      rmSync(file, { force: true });
    } catch {
      // the next spawn rewrites it anyway
    }
  }
  return outcomes;
}

async function stopProcessGroup(record: ChildRecord, graceMs: number, log: (line: string) => void): Promise<StaleOutcome['outcome']> {
  const { name, pid } = record;
  // The supervisor starts every child as the leader of its own group (detached); signal the
  // whole group then, so that what the child started goes too. Otherwise only the process.
  const group = readProcStat(pid)?.pgrp === pid;
  const target = group ? -pid : pid;
  const running = () => (group ? groupRunning(pid) : processRunning(pid));
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(target, sig);
    } catch {
      // ESRCH: gone already
    }
  };

  signal('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!running()) return 'stopped';
    await sleep(100);
  }
  if (!running()) return 'stopped';
  log(`switchyard: the leftover ${name} (pid ${pid}) did not stop within ${Math.round(graceMs / 1000)} s; SIGKILL`);
  signal('SIGKILL');
  // SIGKILL is not instantaneous; wait a little so the ports are free for the check that follows.
  const killDeadline = Date.now() + 2_000;
  while (Date.now() < killDeadline) {
    if (!running()) return 'killed';
    await sleep(50);
  }
  if (!running()) return 'killed';
  log(`switchyard: the leftover ${name} (pid ${pid}) is still there after SIGKILL`);
  return 'survived';
}
