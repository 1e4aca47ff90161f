// Agent concurrency as a worker sees it: which turns' runAgentTurn activities are executing
// now. Only the worker knows (Temporal holds the waiting ones), so each worker reports its
// count to the API, which serves it on /metrics beside the turns in flight it derives from
// events (docs/observability.md).
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { z } from 'zod';

export const WorkerStatsReport = z.object({
  /** Unique per worker process. */
  workerId: z.string().min(1).max(200),
  /** worker.maxConcurrentTurns of this worker. */
  slots: z.number().int().min(0),
  /** Executing runAgentTurn activities, by agent. */
  inUse: z.record(z.string().max(200), z.number().int().min(0)),
  /** The worker is stopping: forget it now rather than when its report expires. */
  gone: z.boolean().optional(),
});
export type WorkerStatsReport = z.infer<typeof WorkerStatsReport>;

/** Counts executing turns by agent; told by the agents worker's activity interceptor. */
export class AgentSlotTracker {
  private readonly inUse = new Map<string, number>();
  private readonly listeners = new Set<() => void>();

  acquire(agent: string): () => void {
    this.inUse.set(agent, (this.inUse.get(agent) ?? 0) + 1);
    this.changed();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.inUse.get(agent) ?? 1) - 1;
      if (left > 0) this.inUse.set(agent, left);
      else this.inUse.delete(agent);
      this.changed();
    };
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries(this.inUse);
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }
}

/** How often a worker repeats its report when nothing changes; the API forgets a worker after three missed ones. */
export const REPORT_EVERY_MS = 10_000;
export const REPORT_EXPIRES_MS = 3 * REPORT_EVERY_MS;
/** Changes within this window go out as one report. */
const COALESCE_MS = 50;

/** Posts the tracker's counts to the API (POST /internal/worker-stats, the internal token), on change and every 10 s. */
export class WorkerStatsReporter {
  readonly workerId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private timer: NodeJS.Timeout | undefined;
  private readonly ticker: NodeJS.Timeout;
  private readonly unsubscribe: () => void;
  private sending: Promise<void> = Promise.resolve();
  private closed = false;
  private lastErrorLog = 0;

  constructor(
    private readonly url: string,
    private readonly token: string | undefined,
    private readonly tracker: AgentSlotTracker,
    private readonly slots: number,
    private readonly onError: (message: string) => void = () => undefined,
  ) {
    this.unsubscribe = tracker.onChange(() => this.schedule());
    this.ticker = setInterval(() => this.schedule(), REPORT_EVERY_MS);
    this.ticker.unref();
    this.schedule();
  }

  /** Says goodbye, so the API stops counting this worker's slots at once. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    clearInterval(this.ticker);
    clearTimeout(this.timer);
    await this.sending;
    await this.post(true).catch(() => undefined);
  }

  private schedule(): void {
    if (this.closed || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      // One report at a time, in order; a failed one is simply superseded by the next.
      this.sending = this.sending.then(() =>
        this.post(false).catch((error: Error) => {
          // While the API is away every report fails: say so once a minute.
          if (Date.now() - this.lastErrorLog < 60_000) return;
          this.lastErrorLog = Date.now();
          this.onError(`agent slot report not delivered: ${error.message}`);
        }),
      );
    }, COALESCE_MS);
    this.timer.unref();
  }

  private async post(gone: boolean): Promise<void> {
    const report: WorkerStatsReport = { workerId: this.workerId, slots: this.slots, inUse: this.tracker.snapshot(), ...(gone ? { gone } : {}) };
    const response = await fetch(this.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(this.token ? { authorization: `Bearer ${this.token}` } : {}) },
      body: JSON.stringify(report),
      signal: AbortSignal.timeout(5000),
    });
    await response.body?.cancel();
    if (!response.ok) throw new Error(`POST ${this.url} answered ${response.status}`);
  }
}

/** The URL beside the event intake (`.../internal/events` → `.../internal/worker-stats`). */
export function workerStatsUrl(eventsUrl: string): string {
  return eventsUrl.replace(/\/internal\/events$/, '/internal/worker-stats');
}
