// Turn facts for /metrics, derived in the API from the session events every worker already
// sends it (durable ones through the publishEvents activity, POST /internal/events). The
// API is the one process that sees every turn of every worker, so one scrape covers them.
//
// Durable events may arrive twice (the publishing activity retries a batch); they are
// counted once per (session, seq). Events of turns that started before this API process
// did are counted where they can be (outcomes), skipped where they cannot (durations).
import { parseSessionKey } from '../contracts/names.js';
import type { SessionEvent } from '../contracts/events.js';
import { BoundedMap } from './bounded-map.js';
import type { GatewayMetrics } from './metrics.js';

/** Sessions and messages remembered at once; beyond that the oldest are forgotten (a missed observation, never a wrong one). */
const REMEMBERED = 20_000;
const OUTCOMES: Record<string, 'completed' | 'failed' | 'cancelled'> = {
  'turn.completed': 'completed',
  'turn.failed': 'failed',
  'turn.cancelled': 'cancelled',
};

interface InFlight {
  agent: string;
  startedAt: number;
}

export class TurnMetrics {
  private readonly lastSeq = new BoundedMap<string, number>(REMEMBERED);
  /** messageId → when the API accepted it (turn.queued ts = SessionMessage.receivedAt). */
  private readonly acceptedAt = new BoundedMap<string, number>(REMEMBERED);
  /** messageId → the cron job that sent it. */
  private readonly scheduled = new BoundedMap<string, string>(REMEMBERED);
  /** sessionKey → when its last turn ended. */
  private readonly lastEnded = new BoundedMap<string, number>(REMEMBERED);
  /** `${sessionKey}\n${turnId}` → the turn. */
  private readonly inFlight = new BoundedMap<string, InFlight>(REMEMBERED);

  constructor(private readonly metrics: GatewayMetrics) {}

  /** Turns started and not ended, by agent. */
  inFlightByAgent(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const turn of this.inFlight.values()) counts.set(turn.agent, (counts.get(turn.agent) ?? 0) + 1);
    return counts;
  }

  observe(event: SessionEvent): void {
    if (event.seq === undefined) return; // live events say nothing about turns' lifecycles
    const last = this.lastSeq.get(event.sessionKey);
    if (last !== undefined && event.seq <= last) return;
    this.lastSeq.set(event.sessionKey, event.seq);

    const agent = parseSessionKey(event.sessionKey)?.agentId ?? 'unknown';
    const turnKey = `${event.sessionKey}\n${event.turnId}`;
    const data = event.data;
    if (event.type === 'turn.queued') {
      const messageId = typeof data.messageId === 'string' ? data.messageId : event.turnId;
      const source = typeof data.source === 'string' ? data.source : 'unknown';
      this.metrics.messagesAccepted.inc({ agent, source });
      this.acceptedAt.set(messageId, event.ts);
      if (source.startsWith('cron:')) this.scheduled.set(messageId, source.slice('cron:'.length));
      return;
    }
    if (event.type === 'turn.started') {
      this.metrics.turnsStarted.inc({ agent });
      this.inFlight.set(turnKey, { agent, startedAt: event.ts });
      return;
    }
    const outcome = OUTCOMES[event.type];
    if (!outcome) return;

    const messageIds = Array.isArray(data.messageIds) ? data.messageIds.filter((id): id is string => typeof id === 'string') : [];
    for (const messageId of messageIds) {
      const schedule = this.scheduled.get(messageId);
      if (schedule !== undefined) {
        this.metrics.scheduleRuns.inc({ schedule, outcome });
        this.scheduled.delete(messageId);
      }
    }
    // A message cancelled while still queued never became a turn.
    if (data.queued === true) {
      for (const messageId of messageIds) this.acceptedAt.delete(messageId);
      return;
    }
    this.metrics.turnsFinished.inc({ agent, outcome });
    const turn = this.inFlight.get(turnKey);
    this.inFlight.delete(turnKey);
    if (turn) this.metrics.turnDuration.observe({ agent, outcome }, seconds(event.ts - turn.startedAt));

    // The turn's first message is its turnId; the overhead counts from when the session
    // could have started it: the later of its acceptance and the previous turn's end.
    const accepted = this.acceptedAt.get(event.turnId);
    const previousEnd = this.lastEnded.get(event.sessionKey);
    if (outcome === 'completed' && accepted !== undefined && typeof data.processMs === 'number') {
      const from = Math.max(accepted, previousEnd ?? accepted);
      const overheadMs = event.ts - from - data.processMs;
      this.metrics.turnOverhead.observe({ agent }, seconds(Math.max(0, overheadMs)));
    }
    for (const messageId of messageIds) this.acceptedAt.delete(messageId);
    this.lastEnded.set(event.sessionKey, event.ts);
  }
}

const seconds = (ms: number) => Math.max(0, ms) / 1000;
