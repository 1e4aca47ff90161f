// The event vocabulary of a session. Durable events are recorded by the session workflow
// (with a per-session increasing `seq`) and can be replayed; live events are published by
// the running turn and are best-effort.
export const DURABLE_EVENT_TYPES = ['turn.queued', 'turn.started', 'turn.completed', 'turn.failed', 'turn.cancelled'] as const;
export const LIVE_EVENT_TYPES = ['turn.delta', 'turn.tool', 'turn.hook'] as const;

export type DurableEventType = (typeof DURABLE_EVENT_TYPES)[number];
export type LiveEventType = (typeof LIVE_EVENT_TYPES)[number];
export type SessionEventType = DurableEventType | LiveEventType;

export interface SessionEvent {
  sessionKey: string;
  /** Present on durable events only: increasing per session, never reused. */
  seq?: number;
  turnId: string;
  type: SessionEventType;
  data: Record<string, unknown>;
  /** Milliseconds since the epoch. */
  ts: number;
}

export interface DurableSessionEvent extends SessionEvent {
  seq: number;
  type: DurableEventType;
}

export function isDurableEvent(event: SessionEvent): event is DurableSessionEvent {
  return event.seq !== undefined;
}
