// One `sessions.subscribe`: durable events missed since `afterSeq` replayed from the
// workflow, then live ones from the hub, with no gap and no duplicate.
//
// The hub is subscribed to before the workflow is read, and live events wait in a queue
// while the replay is read and sent. Every durable event (it has a `seq`) goes through one
// rule: at or below the last seq delivered it is dropped; exactly the next one is
// delivered; beyond the next one (a live publish was lost or reordered) the gap is read
// from the workflow first. Live-only events (`turn.delta`, `turn.tool`, no seq) pass
// through in their place in the queue. A `*` subscription (every session) is live only.
import { WorkflowNotFoundError } from '@temporalio/client';
import type { DurableSessionEvent, SessionEvent } from '../../contracts/events.js';
import { parseSessionKey } from '../../contracts/names.js';
import type { EventsPage, EventsRequest } from '../../workflows/session-definitions.js';
import type { EventHub } from '../event-hub.js';

export const ALL_SESSIONS = '*';
/** Live events held while the workflow is read; beyond this the consumer is treated as too slow. */
export const MAX_PENDING_EVENTS = 10_000;
const PAGE = 1000;

/** Reads a session's durable events; rejects with WorkflowNotFoundError when there is no session. */
export type EventSource = (sessionKey: string, request: EventsRequest) => Promise<EventsPage>;

export interface SubscriptionSink {
  event(params: SessionEventParams): void;
  gap(params: GapParams): void;
  /** The subscription cannot keep up (too many events pending): close the connection. */
  overflow(): void;
}

export interface SessionEventParams extends Record<string, unknown> {
  subscription: string;
  sessionKey: string;
  seq?: number;
  turnId: string;
  type: SessionEvent['type'];
  data: Record<string, unknown>;
  ts: number;
}

export interface GapParams extends Record<string, unknown> {
  subscription: string;
  sessionKey: string;
  /** The last seq delivered before the gap. */
  afterSeq: number;
  /** The first seq delivered after it: the events in between could not be read. */
  beforeSeq: number;
  reason: string;
}

export interface SubscriptionOptions {
  id: string;
  /** A session key, or `*` for every session. */
  sessionKey: string;
  /** Only events of this agent's sessions (useful with `*`). */
  agent?: string;
  /** Replay the durable events after this seq first (session keys only). */
  afterSeq?: number;
}

export interface PrimeResult {
  /** Durable events read from the workflow, to be sent before live ones. */
  replayed: number;
  /** The newest seq the workflow had recorded when it was read. */
  lastSeq?: number;
}

export class SessionSubscription {
  readonly id: string;
  readonly sessionKey: string;
  readonly agent: string | undefined;
  /** The last durable seq delivered (or skipped over); undefined until one is known. */
  private last: number | undefined;
  private readonly queue: SessionEvent[] = [];
  private started = false;
  private pumping = false;
  private closed = false;
  private unsubscribeHub: (() => void) | undefined;

  constructor(
    private readonly hub: EventHub,
    private readonly source: EventSource,
    private readonly sink: SubscriptionSink,
    options: SubscriptionOptions,
  ) {
    this.id = options.id;
    this.sessionKey = options.sessionKey;
    this.agent = options.agent;
    this.last = options.afterSeq;
  }

  get isAll(): boolean {
    return this.sessionKey === ALL_SESSIONS;
  }

  get lastSeq(): number | undefined {
    return this.last;
  }

  /**
   * Listens to the hub, then (with `afterSeq`) reads the missed events. Nothing is sent
   * until `start()`. Rejects, listening to nothing, when the workflow cannot be read.
   */
  async prime(): Promise<PrimeResult> {
    this.unsubscribeHub = this.hub.subscribe(this.isAll ? undefined : this.sessionKey, (event) => this.onLive(event));
    if (this.isAll || this.last === undefined) return { replayed: 0 };
    try {
      const { events, lastSeq } = await this.read(this.last);
      this.queue.unshift(...events);
      return { replayed: events.length, lastSeq };
    } catch (error) {
      this.close();
      throw error;
    }
  }

  /** Begins delivering: the replay, the live events held meanwhile, then live ones as they come. */
  start(): void {
    if (this.closed) return;
    this.started = true;
    void this.pump();
  }

  close(): void {
    this.closed = true;
    this.queue.length = 0;
    this.unsubscribeHub?.();
    this.unsubscribeHub = undefined;
  }

  private onLive(event: SessionEvent): void {
    if (this.closed) return;
    if (this.agent !== undefined && parseSessionKey(event.sessionKey)?.agentId !== this.agent) return;
    if (this.queue.length >= MAX_PENDING_EVENTS) {
      this.close();
      this.sink.overflow();
      return;
    }
    this.queue.push(event);
    void this.pump();
  }

  /** Delivers the queue in order; one runner at a time. Never rejects. */
  private async pump(): Promise<void> {
    if (!this.started || this.pumping) return;
    this.pumping = true;
    try {
      while (this.queue.length > 0 && !this.closed) {
        const event = this.queue[0]!;
        // Live-only events, and everything on `*` (no replay, no gap filling across sessions), pass through.
        if (event.seq === undefined || this.isAll) {
          this.queue.shift();
          this.sink.event(this.params(event));
          continue;
        }
        // A subscription without afterSeq starts at the first durable event it sees.
        if (this.last === undefined) this.last = event.seq - 1;
        if (event.seq <= this.last) {
          this.queue.shift();
          continue;
        }
        if (event.seq > this.last + 1) {
          await this.fill(event.seq);
          continue;
        }
        this.queue.shift();
        this.deliver(event);
      }
    } finally {
      this.pumping = false;
    }
  }

  /** Reads the events between the last delivered and `beforeSeq` from the workflow and delivers them. */
  private async fill(beforeSeq: number): Promise<void> {
    const from = this.last!;
    let reason: string | undefined;
    try {
      const { events } = await this.read(from, beforeSeq);
      for (const event of events) {
        if (this.closed) return;
        if (event.seq > this.last! && event.seq < beforeSeq) this.deliver(event);
      }
      if (this.last! < beforeSeq - 1) reason = "the events are no longer in the session's event window";
    } catch (error) {
      reason = `the session's events could not be read: ${(error as Error).message.split('\n')[0]}`;
    }
    if (this.closed || reason === undefined) return;
    // What cannot be read is reported once, and delivery goes on after it.
    this.sink.gap({ subscription: this.id, sessionKey: this.sessionKey, afterSeq: this.last!, beforeSeq, reason });
    this.last = beforeSeq - 1;
  }

  private deliver(event: SessionEvent): void {
    this.last = event.seq!;
    this.sink.event(this.params(event));
  }

  /** Every durable event after `afterSeq` (below `beforeSeq` when given), oldest first; none when there is no session yet. */
  private async read(afterSeq: number, beforeSeq = Number.POSITIVE_INFINITY): Promise<{ events: DurableSessionEvent[]; lastSeq: number }> {
    const events: DurableSessionEvent[] = [];
    let cursor = afterSeq;
    for (;;) {
      let page: EventsPage;
      try {
        page = await this.source(this.sessionKey, { afterSeq: cursor, limit: PAGE });
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) return { events, lastSeq: 0 };
        throw error;
      }
      for (const event of page.events) if (event.seq < beforeSeq) events.push(event);
      const newest = page.events.at(-1)?.seq;
      if (newest === undefined || newest >= page.lastSeq || newest >= beforeSeq - 1) return { events, lastSeq: page.lastSeq };
      cursor = newest;
    }
  }

  private params(event: SessionEvent): SessionEventParams {
    return {
      subscription: this.id,
      sessionKey: event.sessionKey,
      ...(event.seq === undefined ? {} : { seq: event.seq }),
      turnId: event.turnId,
      type: event.type,
      data: event.data,
      ts: event.ts,
    };
  }
}
