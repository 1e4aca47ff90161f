// One `switchyard start` per SWITCHYARD_HOME: `$SWITCHYARD_HOME/switchyard.pid`, created with
// `wx`. A file whose pid is no longer alive is stale and taken over; a live one is refused.
import { readFileSync, rmSync } from 'node:fs';
import { mkdir, open, readFile, rm, rmdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { processRunning } from './processes.js';

export const PID_FILE_NAME = 'switchyard.pid';

export class InstanceLockError extends Error {
  override name = 'InstanceLockError';
  constructor(
    message: string,
    readonly pid: number,
    readonly home: string,
  ) {
    super(message);
  }
}

export type InstanceLock = {
  pidFile: string;
  pid: number;
  /** Removes the pid file if it still names this process. Idempotent. */
  release(): Promise<void>;
};


/** The pid in `$home/switchyard.pid` when that process is alive, else undefined. */
export async function runningInstance(home: string): Promise<number | undefined> {
  const pid = await readPid(path.join(home, PID_FILE_NAME));
  return pid !== undefined && processRunning(pid) ? pid : undefined;
}

async function readPid(file: string): Promise<number | undefined> {
  try {
    const text = (await readFile(file, 'utf8')).trim();
    const pid = Number.parseInt(text, 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function acquireInstanceLock(home: string, opts: { pid?: number } = {}): Promise<InstanceLock> {
  const ownPid = opts.pid ?? process.pid;
  const pidFile = path.join(home, PID_FILE_NAME);
  const takeoverDir = `${pidFile}.takeover`;
  await mkdir(home, { recursive: true });

  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await open(pidFile, 'wx', 0o644);
      try {
        await handle.writeFile(`${ownPid}\n`);
      } finally {
        await handle.close();
      }
      return makeLock(pidFile, ownPid);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }

    const holder = await readPid(pidFile);
    if (holder !== undefined && processRunning(holder)) {
      throw new InstanceLockError(
        `Switchyard is already running (pid ${holder}, home ${home}). Stop it first, or use another SWITCHYARD_HOME.`,
        holder,
        home,
      );
    }
    if (holder === undefined) {
      // Empty or unreadable: maybe a starter that has created the file but not yet written its pid.
      const age = await stat(pidFile).then((s) => Date.now() - s.mtimeMs, () => Infinity);
      if (age < 2_000) {
        await sleep(100);
        continue;
      }
    }
    if (attempt > 50) throw new Error(`could not take over the stale pid file ${pidFile}`);

    // Stale. Take it over under a short-lived mkdir lock, so that two starters racing for the
    // same stale file cannot both remove it and both believe they own the new one.
    try {
      await mkdir(takeoverDir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const age = await stat(takeoverDir).then((s) => Date.now() - s.mtimeMs, () => 0);
      if (age > 10_000) await rmdir(takeoverDir).catch(() => undefined);
      await sleep(100);
      continue;
    }
    try {
      const again = await readPid(pidFile);
      if (again === holder) await rm(pidFile, { force: true });
    } finally {
      await rmdir(takeoverDir).catch(() => undefined);
    }
  }
}

function makeLock(pidFile: string, pid: number): InstanceLock {
  let released = false;
  const ownsFile = () => {
    try {
      return Number.parseInt(readFileSync(pidFile, 'utf8').trim(), 10) === pid;
    } catch {
      return false;
    }
  };
  // Last resort for an exit that skips release() (process.exit in an error path).
  const onExit = () => {
    if (!released && ownsFile()) rmSync(pidFile, { force: true });
  };
  process.once('exit', onExit);
  return {
    pidFile,
    pid,
    async release() {
      if (released) return;
      released = true;
      process.removeListener('exit', onExit);
      if (ownsFile()) await rm(pidFile, { force: true });
    },
  };
}
