// Reads another Node process's V8 heaps from outside, through its inspector: RSS says a process
// grew, not whether the garbage collector could have given it back, nor which part grew. A
// Temporal worker runs its workflows in a worker thread with a heap of its own, so the probe
// reads the main thread and each worker thread, each after a full GC.
//
// SIGUSR1 makes Node open its inspector on 127.0.0.1:9229 (and keep it open); a diagnostic
// for benchmarks on a machine of one's own, never something the gateway does.
import { createWriteStream } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';

export interface HeapReading {
  /** The main thread's heap in use after a full GC, in bytes. */
  mainUsed: number;
  /** Each worker thread's heap in use after a full GC, in bytes, with the thread's entry URL. */
  threads: Array<{ url: string; used: number }>;
  /** What the V8 heaps of all threads hold from the system after their GCs (used or not), in bytes. */
  heapsTotal: number;
  /** process.memoryUsage() of the main thread after its GC: external and array buffers are off-heap. */
  external: number;
  arrayBuffers: number;
  rss: number;
}

interface WorkerThread {
  sessionId: string;
  title: string;
  url: string;
}

interface CdpMessage {
  id?: number;
  method?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: { message: string };
}

/** One inspector connection; worker threads are reached through NodeWorker sessions on it. */
class Inspector {
  private nextId = 1;
  private readonly pending = new Map<string, (msg: CdpMessage) => void>();
  private readonly listeners: Array<(msg: CdpMessage, sessionId?: string) => void> = [];

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as CdpMessage;
      if (msg.method === 'NodeWorker.receivedMessageFromWorker') {
        const inner = JSON.parse(String(msg.params!.message)) as CdpMessage;
        this.dispatch(inner, String(msg.params!.sessionId));
      } else {
        this.dispatch(msg);
      }
    });
  }

  static async open(pid: number, port = 9229): Promise<Inspector> {
    process.kill(pid, 'SIGUSR1');
    for (let attempt = 0; ; attempt++) {
      try {
        const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as Array<{ webSocketDebuggerUrl: string }>;
        const ws = new WebSocket(targets[0]!.webSocketDebuggerUrl, { maxPayload: 2 ** 30 });
        await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
        return new Inspector(ws);
      } catch (error) {
        if (attempt > 40) throw new Error(`no inspector on port ${port} for pid ${pid}`, { cause: error });
        await sleep(250);
      }
    }
  }

  private dispatch(msg: CdpMessage, sessionId?: string): void {
    if (msg.id !== undefined) {
      const key = `${sessionId ?? ''}#${msg.id}`;
      this.pending.get(key)?.(msg);
      this.pending.delete(key);
    } else {
      for (const listener of this.listeners) listener(msg, sessionId);
    }
  }

  on(listener: (msg: CdpMessage, sessionId?: string) => void): void {
    this.listeners.push(listener);
  }

  async send(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    const reply = new Promise<CdpMessage>((resolve) => this.pending.set(`${sessionId ?? ''}#${id}`, resolve));
    const payload = JSON.stringify({ id, method, params });
    if (sessionId === undefined) this.ws.send(payload);
    else this.ws.send(JSON.stringify({ id: this.nextId++, method: 'NodeWorker.sendMessageToWorker', params: { sessionId, message: payload } }));
    const msg = await reply;
    if (msg.error) throw new Error(`${method}: ${msg.error.message}`);
    return msg.result ?? {};
  }

  /** The process's worker threads: inspector session id, and the title and URL Node gives each. */
  async workerSessions(): Promise<WorkerThread[]> {
    const sessions: WorkerThread[] = [];
    this.on((msg) => {
      if (msg.method !== 'NodeWorker.attachedToWorker') return;
      const info = msg.params!.workerInfo as { title?: string; url?: string };
      sessions.push({ sessionId: String(msg.params!.sessionId), title: String(info.title ?? ''), url: String(info.url ?? '') });
    });
    await this.send('NodeWorker.enable', { waitForDebuggerOnStart: false });
    await sleep(500);
    return sessions;
  }

  close(): void {
    this.ws.close();
  }
}

async function afterGc(inspector: Inspector, sessionId?: string): Promise<{ used: number; total: number }> {
  await inspector.send('HeapProfiler.collectGarbage', {}, sessionId);
  const usage = await inspector.send('Runtime.getHeapUsage', {}, sessionId);
  return { used: Number(usage.usedSize), total: Number(usage.totalSize) };
}

/** Every heap of the process `pid`, each after a full GC. */
export async function readHeaps(pid: number): Promise<HeapReading> {
  const inspector = await Inspector.open(pid);
  try {
    const threads = await inspector.workerSessions();
    const threadsUsed: HeapReading['threads'] = [];
    let heapsTotal = 0;
    for (const { sessionId, url } of threads) {
      const usage = await afterGc(inspector, sessionId);
      threadsUsed.push({ url, used: usage.used });
      heapsTotal += usage.total;
    }
    const main = await afterGc(inspector);
    heapsTotal += main.total;
    const evaluated = await inspector.send('Runtime.evaluate', { expression: 'JSON.stringify(process.memoryUsage())', returnByValue: true });
    const memory = JSON.parse(String((evaluated.result as { value: string }).value)) as NodeJS.MemoryUsage;
    return { mainUsed: main.used, threads: threadsUsed, heapsTotal, external: memory.external, arrayBuffers: memory.arrayBuffers, rss: memory.rss };
  } finally {
    inspector.close();
  }
}

/** The entry URL of the thread a Temporal worker runs its workflows in. */
export const WORKFLOW_THREAD = /workflow-worker-thread/;

/**
 * Writes a heap snapshot of the process's main thread (`thread` undefined) or of the worker
 * thread whose entry URL matches `thread`, to `file`, for Chrome DevTools' Memory tab (load two
 * and compare).
 */
export async function writeHeapSnapshot(pid: number, file: string, thread?: RegExp): Promise<void> {
  const inspector = await Inspector.open(pid);
  try {
    const sessionId = thread === undefined ? undefined : (await inspector.workerSessions()).find((w) => thread.test(w.url))?.sessionId;
    if (thread !== undefined && sessionId === undefined) throw new Error(`pid ${pid} has no worker thread matching ${thread}`);
    const out = createWriteStream(file);
    inspector.on((msg, from) => {
      if (msg.method === 'HeapProfiler.addHeapSnapshotChunk' && from === sessionId) out.write(String(msg.params!.chunk));
    });
    await inspector.send('HeapProfiler.takeHeapSnapshot', { reportProgress: false }, sessionId);
    await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
  } finally {
    inspector.close();
  }
}
