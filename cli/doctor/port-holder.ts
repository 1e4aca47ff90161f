// Which process listens on a TCP port: /proc on Linux (the socket's inode, then the process
// holding it), `lsof` elsewhere. Best effort: another user's processes may not be visible.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { execa } from 'execa';
import { readCmdline, readProcStat } from '../../supervisor/processes.js';

export interface PortHolder {
  pid: number;
  command: string;
}

const LISTEN = '0A';

/** Inodes of the sockets listening on `port` in /proc/net/tcp and tcp6. */
export function listeningInodes(tables: string[], port: number): Set<string> {
  const inodes = new Set<string>();
  for (const table of tables) {
    for (const row of table.split('\n').slice(1)) {
      const fields = row.trim().split(/\s+/);
      // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
      const local = fields[1];
      if (!local || fields[3] !== LISTEN) continue;
      const hexPort = local.slice(local.lastIndexOf(':') + 1);
      if (Number.parseInt(hexPort, 16) === port && fields[9] && fields[9] !== '0') inodes.add(fields[9]);
    }
  }
  return inodes;
}

function procHolder(port: number): PortHolder | undefined {
  const tables = ['/proc/net/tcp', '/proc/net/tcp6'].flatMap((file) => {
    try {
      return [readFileSync(file, 'utf8')];
    } catch {
      return [];
    }
  });
  const inodes = listeningInodes(tables, port);
  if (inodes.size === 0) return undefined;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = readlinkSync(`/proc/${entry}/fd/${fd}`);
      } catch {
        continue;
      }
      const match = /^socket:\[(\d+)\]$/.exec(target);
      if (match && inodes.has(match[1]!)) {
        const pid = Number(entry);
        return { pid, command: (readCmdline(pid) ?? []).join(' ') || '?' };
      }
    }
  }
  return undefined;
}

async function lsofHolder(port: number): Promise<PortHolder | undefined> {
  const result = await execa('lsof', ['-nP', `-iTCP:${port}`, '-sTCP:LISTEN', '-Fpc'], { reject: false, timeout: 10_000 });
  const text = String(result.stdout ?? '');
  const pid = Number(/^p(\d+)$/m.exec(text)?.[1]);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  return { pid, command: /^c(.+)$/m.exec(text)?.[1] ?? '?' };
}

export async function portHolder(port: number): Promise<PortHolder | undefined> {
  if (process.platform === 'linux') return procHolder(port);
  return lsofHolder(port).catch(() => undefined);
}

/** True when `pid` is `ancestor` or one of its descendants (Linux; elsewhere only equality). */
export function descendsFrom(pid: number, ancestor: number): boolean {
  for (let current: number | undefined = pid, hops = 0; current !== undefined && current > 1 && hops < 64; hops++) {
    if (current === ancestor) return true;
    current = readProcStat(current)?.ppid;
  }
  return false;
}
