import net from 'node:net';
import path from 'node:path';
import { processRunning, readProcStat } from '../../supervisor/processes.js';

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Alive and not a zombie (this sandbox's PID 1 does not reap orphans). */
export const processAlive = processRunning;

export function parentOf(pid: number): number | undefined {
  return readProcStat(pid)?.ppid;
}

/** Node arguments that run the `switchyard` CLI from the sources, from any working directory. */
export function switchyardArgv(...args: string[]): string[] {
  return ['--import', import.meta.resolve('tsx'), path.resolve(import.meta.dirname, '../../cli/main.ts'), ...args];
}
