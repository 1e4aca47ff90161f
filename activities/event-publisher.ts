// How session events leave the worker. The default implementation posts them to the API
// over loopback (worker/http-event-publisher.ts); a broker can implement the same interface.
import type { SessionEvent } from '../contracts/events.js';

export interface EventPublisher {
  /** Best-effort and batched: for live events (`turn.delta`, `turn.tool`). */
  publish(event: SessionEvent): void;
  /** Delivers now or throws, so that the caller (an activity) can be retried. */
  deliver(events: SessionEvent[]): Promise<void>;
  close(): Promise<void>;
}
