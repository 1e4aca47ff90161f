// In-process fan-out of session events to whoever listens in this API process
// (WebSocket subscribers, sync webhook callers).
import type { SessionEvent } from '../contracts/events.js';

export type EventListener = (event: SessionEvent) => void;

export class EventHub {
  private readonly bySession = new Map<string, Set<EventListener>>();
  private readonly everything = new Set<EventListener>();

  /** `sessionKey` undefined listens to every session. Returns the unsubscribe function. */
  subscribe(sessionKey: string | undefined, listener: EventListener): () => void {
    if (sessionKey === undefined) {
      this.everything.add(listener);
      return () => this.everything.delete(listener);
    }
    let listeners = this.bySession.get(sessionKey);
    if (!listeners) this.bySession.set(sessionKey, (listeners = new Set()));
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
      if (listeners.size === 0) this.bySession.delete(sessionKey);
    };
  }

  publish(events: SessionEvent[]): void {
    for (const event of events) {
      for (const listener of this.bySession.get(event.sessionKey) ?? []) listener(event);
      for (const listener of this.everything) listener(event);
    }
  }

  get listenerCount(): number {
    let count = this.everything.size;
    for (const listeners of this.bySession.values()) count += listeners.size;
    return count;
  }
}
