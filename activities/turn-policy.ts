// What the session workflow needs to know about an agent before each turn. Read from the
// worker's config by a local activity, so that a config change applies from the next turn
// and the values are recorded in history for replay.
import type { BusyMode } from '../contracts/session.js';

export interface TurnPolicy {
  /** Milliseconds since the epoch when the turn began. */
  now: number;
  busy: BusyMode;
  turnTimeoutMs: number;
  retry: { maximumAttempts: number; initialIntervalMs: number; maximumIntervalMs: number };
}
