// What flows between the API, the session workflow and the turn activity.
import type { DurableSessionEvent } from './events.js';

export type BusyMode = 'queue' | 'collect' | 'interrupt';

/** What the session workflow must know about an agent to run its turn (config, as of one moment). */
export interface AgentPolicy {
  busy: BusyMode;
  turnTimeoutMs: number;
  retry: { maximumAttempts: number; initialIntervalMs: number; maximumIntervalMs: number };
}

export interface SessionMessage {
  messageId: string;
  /** Duplicates of a recent key are acknowledged and never run twice. */
  idempotencyKey: string;
  text: string;
  /** Where it came from: "hook:agent", "hook:github", "rpc", "cron:<name>", "channel:<name>". */
  source: string;
  /** Milliseconds since the epoch, stamped by the API when it accepted the message. */
  receivedAt: number;
  requestId?: string;
  /**
   * How the agent's turns run, read from config by the API when it accepted the message, so
   * the workflow needs no round trip to learn it before a turn. Absent on messages accepted
   * before this field existed: the workflow then asks a local activity, as it used to.
   */
  policy?: AgentPolicy;
  /** Where the turn's result is POSTed. Only a reference: the worker looks up URL and secret in its config. */
  delivery?: DeliveryRef;
}

/**
 * A delivery target by reference, never by secret: `source` names `webhooks.<source>.deliver`
 * (URL and secret from the worker's config); `url` is an address given with the message,
 * signed with `gateway.deliverSecret`.
 */
export type DeliveryRef = { source: string; url?: undefined } | { url: string; source?: undefined };

/** One POST of a turn outcome to one target (activity `deliverResult`). */
export interface DeliveryRequest {
  /** The `webhook-id` header: the same on every attempt, so receivers can drop repeats. */
  deliveryId: string;
  target: DeliveryRef;
  /** The JSON body. */
  payload: Record<string, unknown>;
}

export interface SessionStart {
  sessionKey: string;
  agentId: string;
  channel?: string;
  busy: BusyMode;
  /** Turns this run takes before continuing as new. */
  maxTurnsPerRun?: number;
  carried?: CarriedState;
}

/** Everything a session keeps across continue-as-new. */
export interface CarriedState {
  inbox: SessionMessage[];
  claudeSessionId?: string;
  /** True until a turn has created the Claude session under `claudeSessionId`. */
  claudeSessionFresh: boolean;
  recentKeys: string[];
  events: DurableSessionEvent[];
  nextSeq: number;
  turnCount: number;
  totalCostUsd: number;
  /** Result deliveries still being retried when the run continued as new; restarted by the next run. */
  deliveries?: DeliveryRequest[];
}

export type SessionStatus = 'idle' | 'running' | 'cancelling';

export interface SessionState {
  sessionKey: string;
  agentId: string;
  status: SessionStatus;
  queueLength: number;
  currentTurn?: { turnId: string; messageIds: string[]; startedAt: number };
  claudeSessionId?: string;
  turnCount: number;
  totalCostUsd: number;
  lastSeq: number;
}

export interface SubmitResult {
  messageId: string;
  duplicate: boolean;
}

export interface TurnRequest {
  sessionKey: string;
  agentId: string;
  turnId: string;
  prompt: string;
  messageIds: string[];
  claudeSessionId: string;
  /** `--session-id` when true, `--resume` when false. */
  freshSession: boolean;
  requestId?: string;
}

export interface TurnResult {
  text: string;
  claudeSessionId: string;
  /** Set when `--resume` named a session the CLI no longer had and a fresh one was started. */
  sessionRestarted?: boolean;
  costUsd: number;
  usage: Record<string, unknown>;
  numTurns: number;
  durationMs: number;
  startedAt: number;
  finishedAt: number;
  /** The turn's tool calls (absent when there were none, and in histories recorded before). */
  tools?: ToolAuditEntry[];
  /** Tool calls left out of `tools` beyond its limit. */
  toolsOmitted?: number;
}

/** One tool call of a turn, as recorded in `turn.completed` (claude-hooks/tool-audit.ts). */
export interface ToolAuditEntry {
  toolUseId: string;
  name: string;
  /** The input, or a cut JSON string of it when large. */
  input: unknown;
  /** called: no result seen; denied: blocked by the agent's toolPolicy. */
  status: 'called' | 'ok' | 'error' | 'denied';
  /** The toolPolicy rule that denied it. */
  rule?: string;
  reason?: string;
  /** The start of the error output. */
  error?: string;
}

/** Error types the turn activity raises; the non-retryable ones end the turn at once. */
export const TURN_FAILURE = {
  auth: 'AgentAuthenticationError',
  config: 'AgentConfigError',
  binary: 'AgentBinaryNotFound',
  badRequest: 'AgentBadRequest',
  api: 'AgentApiError',
  crash: 'AgentCrashed',
  timeout: 'AgentTimedOut',
  /** The CLI wrote nothing for `stallTimeout` while waiting on the model; retried. */
  stalled: 'AgentStalled',
  limit: 'AgentLimitReached',
} as const;
export const NON_RETRYABLE_TURN_FAILURES: string[] = [TURN_FAILURE.auth, TURN_FAILURE.config, TURN_FAILURE.binary, TURN_FAILURE.badRequest, TURN_FAILURE.limit];

/** Error types the result delivery raises that no retry can fix (see activities/deliver-result.ts). */
export const DELIVERY_FAILURE = {
  /** The source or secret the message named is not configured on the worker. */
  target: 'DeliveryTargetMissing',
  /** The receiver answered 410 Gone: it wants no more deliveries. */
  gone: 'DeliveryGone',
} as const;
export const NON_RETRYABLE_DELIVERY_FAILURES: string[] = [DELIVERY_FAILURE.target, DELIVERY_FAILURE.gone];
