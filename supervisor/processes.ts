// What /proc says about processes: whether a pid or a process group still runs. Zombies do
// not count (PID 1 in a container may never reap them), but a process whose main thread is a
// zombie while another thread still holds its sockets does. Where there is no /proc (macOS),
// signal 0 answers instead.
import { readdirSync, readFileSync } from 'node:fs';

const HAVE_PROC = process.platform === 'linux';

/** Exists as far as signal 0 can tell (EPERM: it exists, owned by someone else). */
function signalable(target: number): boolean {
  try {
    process.kill(target, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export type ProcStat = {
  /** R, S, D, Z, T, … (Z: zombie, X: dead). */
  state: string;
  ppid: number;
  pgrp: number;
  startTime: string;
};

/** /proc/<pid>/stat of a process, or undefined when it does not exist (or there is no /proc). */
export function readProcStat(pid: number): ProcStat | undefined {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime
  // stime cutime cstime priority nice num_threads itrealvalue starttime …"; comm may contain
  // spaces and parentheses, so split after the last ')'. fields[0] is field 3 (state), so field
  // 22 (starttime) is fields[19].
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const startTime = fields[19];
  if (fields[0] === undefined || startTime === undefined || !/^\d+$/.test(startTime)) return undefined;
  return { state: fields[0], ppid: Number(fields[1]), pgrp: Number(fields[2]), startTime };
}

/** argv of a process from /proc/<pid>/cmdline (empty for a zombie), or undefined. */
export function readCmdline(pid: number): string[] | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return undefined;
  }
  if (text.endsWith('\0')) text = text.slice(0, -1);
  return text === '' ? [] : text.split('\0');
}

export const isZombie = (state: string | undefined) => state === 'Z' || state === 'X' || state === 'x';

/**
 * Whether any thread of `pid` still runs. The stat of a process is that of its main thread: a
 * multi-threaded process (the Go dev server) that is exiting may show Z there while another
 * thread still tears down and holds its sockets and files.
 */
function hasLiveThread(pid: number): boolean {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return false;
  }
  return tasks.some((tid) => {
    try {
      const text = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      return !isZombie(text.slice(text.lastIndexOf(')') + 2).split(' ')[0]);
    } catch {
      return false;
    }
  });
}

/** Alive: not gone, and not a zombie whose threads have all exited. */
export function processRunning(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (!HAVE_PROC) return signalable(pid);
  const stat = readProcStat(pid);
  if (stat === undefined) return false;
  return !isZombie(stat.state) || hasLiveThread(pid);
}

/** Whether a process of group `pgid` is still running (zombies do not count, see processRunning). */
export function groupRunning(pgid: number | undefined): boolean {
  if (pgid === undefined || !signalable(-pgid)) return false;
  if (!HAVE_PROC) return true;
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return true;
  }
  return entries.some((entry) => {
    if (!/^\d+$/.test(entry)) return false;
    const pid = Number(entry);
    return readProcStat(pid)?.pgrp === pgid && processRunning(pid);
  });
}
