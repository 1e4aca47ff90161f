// Stopping an agent process and everything it started (a Bash tool's children included).
// The CLI runs in its own process group, so the group id is its pid.
import { setTimeout as sleep } from 'node:timers/promises';

export const STOP_SEQUENCE: Array<{ signal: NodeJS.Signals; waitMs: number }> = [
  { signal: 'SIGINT', waitMs: 2000 },
  { signal: 'SIGTERM', waitMs: 3000 },
  { signal: 'SIGKILL', waitMs: 0 },
];

export function signalGroup(pid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

export function groupAlive(pid: number): boolean {
  return signalGroup(pid, 0);
}

/** SIGINT, a grace period, SIGTERM, another, then SIGKILL; resolves once the group is gone. */
export async function stopProcessGroup(pid: number, exited: Promise<unknown>, sequence = STOP_SEQUENCE): Promise<void> {
  let done = false;
  void exited.finally(() => {
    done = true;
  });
  for (const { signal, waitMs } of sequence) {
    if (!groupAlive(pid)) return;
    signalGroup(pid, signal);
    const deadline = Date.now() + waitMs;
    while (Date.now() < deadline) {
      if (done && !groupAlive(pid)) return;
      await sleep(50);
    }
  }
}
