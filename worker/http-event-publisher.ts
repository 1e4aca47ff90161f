// Default event bus transport: the worker posts session events to the API over loopback,
// authenticated with the internal token. Live events are batched and best-effort; durable
// ones are delivered by an activity that retries.
import type { SessionEvent } from '../contracts/events.js';
import type { EventPublisher } from '../activities/event-publisher.js';

const FLUSH_AFTER_MS = 15;
const MAX_BATCH = 200;
const MAX_BUFFERED = 5000;
/** While the API is away every batch fails: say so once in a while, not 60 times a second. */
const ERROR_LOG_EVERY_MS = 10_000;

export class HttpEventPublisher implements EventPublisher {
  private buffer: SessionEvent[] = [];
  private timer: NodeJS.Timeout | undefined;
  private sending: Promise<void> = Promise.resolve();
  private dropped = 0;
  private failed = 0;
  private lastErrorLog = 0;

  constructor(
    private readonly url: string,
    private readonly token: string | undefined,
    private readonly onError: (message: string) => void = () => undefined,
  ) {}

  publish(event: SessionEvent): void {
    if (this.buffer.length >= MAX_BUFFERED) {
      this.dropped += 1;
      return;
    }
    this.buffer.push(event);
    if (this.buffer.length >= MAX_BATCH) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), FLUSH_AFTER_MS);
  }

  async deliver(events: SessionEvent[]): Promise<void> {
    await this.post(events);
  }

  async close(): Promise<void> {
    this.flush();
    await this.sending;
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.buffer.length === 0) return;
    const batch = this.buffer;
    this.buffer = [];
    // One batch at a time keeps live events in order.
    this.sending = this.sending.then(() =>
      this.post(batch).catch((err: Error) => {
        this.failed += batch.length;
        if (Date.now() - this.lastErrorLog < ERROR_LOG_EVERY_MS) return;
        this.lastErrorLog = Date.now();
        this.onError(`live events not delivered (${this.failed} since the last report, ${this.dropped} dropped on a full buffer): ${err.message}`);
        this.failed = 0;
      }),
    );
  }

  private async post(events: SessionEvent[]): Promise<void> {
    const response = await fetch(this.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(this.token ? { authorization: `Bearer ${this.token}` } : {}) },
      body: JSON.stringify({ events }),
      signal: AbortSignal.timeout(5000),
    });
    if (!response.ok) throw new Error(`POST ${this.url} answered ${response.status}`);
    await response.body?.cancel();
  }
}
