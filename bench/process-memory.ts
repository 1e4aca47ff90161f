// Memory of a process and of what it spawned, from /proc (Linux): RSS of the process itself,
// PSS of its descendants (the `claude` CLIs a worker runs share their binary's pages; PSS
// splits shared pages among them, so the sum is what they really cost together), and where a
// process's resident memory lives (malloc arenas, other anonymous mappings, files).
import { readFileSync, readdirSync } from 'node:fs';
import { readCmdline, readProcStat } from '../supervisor/processes.js';

const KIB = 1024;

function statusField(pid: number, field: string): number | undefined {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * KIB : undefined;
  } catch {
    return undefined;
  }
}

/** Resident set of one process, in bytes (undefined when it is gone or there is no /proc). */
export function rssBytes(pid: number): number | undefined {
  return statusField(pid, 'VmRSS');
}

/** Proportional set size of one process, in bytes; RSS where smaps_rollup is unavailable. */
export function pssBytes(pid: number): number | undefined {
  try {
    const match = /^Pss:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    if (match) return Number(match[1]) * KIB;
  } catch {
    // fall through
  }
  return rssBytes(pid);
}

/** Every live descendant of `pid` (children, their children, ...). */
export function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readProcStat(Number(entry));
    if (!stat || stat.state === 'Z') continue;
    const list = children.get(stat.ppid) ?? [];
    list.push(Number(entry));
    children.set(stat.ppid, list);
  }
  const found: number[] = [];
  const queue = [...(children.get(pid) ?? [])];
  while (queue.length) {
    const next = queue.shift()!;
    found.push(next);
    queue.push(...(children.get(next) ?? []));
  }
  return found;
}

export interface NativeMemory {
  /** Resident bytes of the brk heap: glibc's main malloc arena. */
  brkHeap: number;
  /** Resident bytes of anonymous mappings that look like glibc's per-thread malloc arenas (64 MiB-aligned, at most 64 MiB). */
  threadArenas: number;
  /** Resident bytes of the other anonymous mappings (V8's pages, large mallocs, stacks of threads). */
  otherAnonymous: number;
  /** Resident bytes of file mappings (code, the binary). */
  files: number;
}

const ARENA = 64 * 2 ** 20;

/**
 * Where a process's resident memory lives, from /proc/PID/smaps: glibc's malloc arenas apart
 * from the rest, since memory freed but kept by malloc shows there and nowhere else.
 */
export function nativeMemory(pid: number): NativeMemory {
  const totals: NativeMemory = { brkHeap: 0, threadArenas: 0, otherAnonymous: 0, files: 0 };
  let kind: keyof NativeMemory = 'otherAnonymous';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const header = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (header) {
      const start = BigInt(`0x${header[1]}`);
      const size = Number(BigInt(`0x${header[2]}`) - start);
      const name = header[3]!;
      kind = name === '[heap]' ? 'brkHeap' : name.startsWith('/') ? 'files' : name === '' && start % BigInt(ARENA) === 0n && size <= ARENA ? 'threadArenas' : 'otherAnonymous';
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB$/.exec(line);
    if (rss) totals[kind] += Number(rss[1]) * 1024;
  }
  return totals;
}

export interface MemoryPeak {
  /** Highest RSS of the process itself. */
  rssBytes: number;
  /** Highest PSS sum of its descendants at one sample. */
  childrenPssBytes: number;
  /** Descendants alive at that sample. */
  childrenAtPeak: number;
  /** Most descendants alive at one sample. */
  mostChildren: number;
  samples: number;
}

/** The median RSS of `samples` readings `everyMs` apart: one reading is at the mercy of the garbage collector. */
export async function settledRss(pid: number, samples = 9, everyMs = 250): Promise<number> {
  const readings: number[] = [];
  for (let i = 0; i < samples; i++) {
    readings.push(rssBytes(pid) ?? 0);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  return readings.sort((a, b) => a - b)[Math.floor(readings.length / 2)]!;
}

/**
 * Samples a process and those of its descendants whose command line matches `children` (for a
 * worker: the `claude` CLIs, not the tsx loader's esbuild service) until stopped, keeping the peaks.
 */
export function sampleMemory(pid: number, children: RegExp, everyMs = 250): { stop(): MemoryPeak } {
  const peak: MemoryPeak = { rssBytes: 0, childrenPssBytes: 0, childrenAtPeak: 0, mostChildren: 0, samples: 0 };
  const sample = () => {
    peak.samples++;
    peak.rssBytes = Math.max(peak.rssBytes, rssBytes(pid) ?? 0);
    const kids = descendants(pid).filter((child) => children.test((readCmdline(child) ?? []).join(' ')));
    const total = kids.reduce((sum, child) => sum + (pssBytes(child) ?? 0), 0);
    peak.mostChildren = Math.max(peak.mostChildren, kids.length);
    if (total > peak.childrenPssBytes) {
      peak.childrenPssBytes = total;
      peak.childrenAtPeak = kids.length;
    }
  };
  sample();
  const timer = setInterval(sample, everyMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return peak;
    },
  };
}

export const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
