// What flows between the API, the session workflow and the turn activity.
import type { DurableSessionEvent } from './events.js';

export type BusyMode = 'queue' | 'collect' | 'interrupt';

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
  limit: 'AgentLimitReached',
} as const;
export const NON_RETRYABLE_TURN_FAILURES: string[] = [TURN_FAILURE.auth, TURN_FAILURE.config, TURN_FAILURE.binary, TURN_FAILURE.badRequest, TURN_FAILURE.limit];
