// The durable event log of a session: an increasing `seq`, a window bounded by count and
// by size so that it can travel through continue-as-new well under the 2 MB payload limit.
import type { DurableEventType, DurableSessionEvent } from '../contracts/events.js';
import type { EventsPage, EventsRequest } from './session-definitions.js';

export const EVENT_WINDOW_MAX_EVENTS = 500;
export const EVENT_WINDOW_MAX_BYTES = 512 * 1024;
const MAX_PAGE = 1000;

export class EventLog {
  private readonly sizes: number[];
  private bytes: number;

  constructor(
    private readonly sessionKey: string,
    private readonly events: DurableSessionEvent[] = [],
    private nextSeq = 1,
  ) {
    this.sizes = events.map(sizeOf);
    this.bytes = this.sizes.reduce((a, b) => a + b, 0);
  }

  append(type: DurableEventType, turnId: string, ts: number, data: Record<string, unknown>): DurableSessionEvent {
    const event: DurableSessionEvent = { sessionKey: this.sessionKey, seq: this.nextSeq++, turnId, type, data, ts };
    const size = sizeOf(event);
    this.events.push(event);
    this.sizes.push(size);
    this.bytes += size;
    while (this.events.length > 1 && (this.events.length > EVENT_WINDOW_MAX_EVENTS || this.bytes > EVENT_WINDOW_MAX_BYTES)) {
      this.events.shift();
      this.bytes -= this.sizes.shift() ?? 0;
    }
    return event;
  }

  page({ afterSeq = 0, limit = 100 }: EventsRequest = {}): EventsPage {
    const take = Math.max(1, Math.min(limit, MAX_PAGE));
    const events = this.events.filter((e) => e.seq > afterSeq).slice(0, take);
    return { events, lastSeq: this.lastSeq, firstSeq: this.events[0]?.seq ?? this.nextSeq };
  }

  /** The time of the newest event, 0 before the first. */
  get lastTs(): number {
    return this.events.at(-1)?.ts ?? 0;
  }

  get lastSeq(): number {
    return this.nextSeq - 1;
  }

  snapshot(): { events: DurableSessionEvent[]; nextSeq: number } {
    return { events: [...this.events], nextSeq: this.nextSeq };
  }
}

function sizeOf(event: DurableSessionEvent): number {
  return JSON.stringify(event).length;
}
