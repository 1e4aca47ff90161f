// What a cron job is, independent of where it was declared (config, RPC, CLI) and of the
// zod schema that validated it. Pure types and constants: the run workflow imports this
// module too, so nothing here may do I/O or import Node modules.

/** Temporal's overlap policies, in the camelCase Switchyard's config uses. */
export const OVERLAP_MODES = ['skip', 'bufferOne', 'bufferAll', 'cancelOther', 'terminateOther', 'allowAll'] as const;
export type OverlapMode = (typeof OVERLAP_MODES)[number];

/** When a job runs: exactly one of `cron`, `every` or `at`, with the modifiers that fit it. */
export interface CronWhen {
  /** A cron expression as Temporal reads it: 5 fields, 6 (… year) or 7 (second …  year), or @daily and friends. */
  cron?: string | undefined;
  /** IANA time zone of `cron` (default UTC). */
  timezone?: string | undefined;
  /** A fixed interval (`2s`, `15m`, `1d`), counted from the Unix epoch plus `offset`. */
  every?: string | undefined;
  /** Shifts an `every` interval: `every: 1h, offset: 15m` fires at xx:15. */
  offset?: string | undefined;
  /** One run: an ISO 8601 time with an offset (`2030-01-01T09:00:00Z`) or a delay from creation (`20m`). */
  at?: string | undefined;
  /** Each time is moved later by a random amount up to this. */
  jitter?: string | undefined;
  /** No runs before this ISO time. */
  startAt?: string | undefined;
  /** No runs after this ISO time. */
  endAt?: string | undefined;
}

/** Where a run's result goes besides the session's own events. */
export interface CronDeliver {
  /** POSTed there, signed with Standard Webhooks headers (secret: gateway.deliverSecret). */
  url?: string | undefined;
}

/** A job's definition, defaults applied: what config declares under `cron.<name>` and what `cron.add` takes. */
export interface CronJob {
  description?: string | undefined;
  schedule: CronWhen;
  /** The agent; default the session key's agent, else `main`. */
  agent?: string | undefined;
  /**
   * Unset: an isolated run in `agent:<agent>:cron:<name>`, reset before each run. A scope
   * (`main`, `reports`) or a full session key (`agent:main:main`): the prompt is sent into
   * that session like any other message.
   */
  session?: string | undefined;
  prompt: string;
  overlap: OverlapMode;
  catchupWindow: string;
  pauseOnFailure: boolean;
  paused: boolean;
  /** Longest a run may take from sending to the turn's outcome. */
  timeout: string;
  deliver?: CronDeliver | undefined;
}

export type CronJobSource = 'config' | 'runtime';
export type CronJobKind = 'schedule' | 'at';

/** The workflow type of a run, and the schedule action's base workflow id is `cron:<name>`. */
export const CRON_RUN_WORKFLOW_TYPE = 'cronRunWorkflow';
/** Signal-with-start of this signal starts a one-shot job now instead of at its time. */
export const CRON_TRIGGER_SIGNAL = 'trigger';
/** `managedBy` in every memo Switchyard writes on schedules and run workflows. */
export const MANAGED_BY = 'switchyard';

/** The input of one run (the schedule action's argument, or the one-shot's). */
export interface CronRunInput {
  job: string;
  kind: CronJobKind;
  agentId: string;
  sessionKey: string;
  /** Reset the session before sending: every run starts a fresh Claude session. */
  isolated: boolean;
  prompt: string;
  timeoutMs: number;
  deliver?: { url: string };
  /** The job as declared, so that `cron get` can show it back. */
  definition: CronJob;
}

export type CronRunStatus = 'completed' | 'failed' | 'cancelled' | 'timed-out';

/** What a run workflow returns (and records in its memo, shortened). */
export interface CronRunResult {
  status: CronRunStatus;
  job: string;
  sessionKey: string;
  messageId: string;
  /** The run's idempotency key: its workflow id (plus the run id for one-shots). */
  runKey: string;
  result?: string;
  resultTruncated?: boolean;
  reason?: string;
  errorType?: string;
  costUsd?: number;
  durationMs?: number;
  delivered?: { status: number } | { error: string };
}

/** The memo of a schedule `cron:<name>` (fixed at creation: Temporal 1.29 does not update schedule memos). */
export interface ScheduleMemo {
  managedBy: typeof MANAGED_BY;
  source: CronJobSource;
  job: string;
}

/** The memo every run workflow starts with (the schedule action's memo, or the one-shot's). */
export interface RunMemo {
  managedBy: typeof MANAGED_BY;
  job: string;
  /** Hash of the job's definition; reconciliation compares it with the desired one. */
  specHash: string;
  kind: CronJobKind;
  /** One-shots only: who declared it, when it fires, and the definition (list and get read it from visibility). */
  source?: CronJobSource;
  runAt?: string;
  definition?: CronJob;
  /** Set by the run as it goes. */
  status?: 'running' | CronRunStatus;
  result?: string;
  reason?: string;
}

/** How long a run keeps retrying the delivery of its result to `deliver.url`. */
export const CRON_DELIVERY_TIMEOUT_MS = 5 * 60_000;
/** Result text kept in a run's memo (what `cron runs` shows). */
export const CRON_SNIPPET_CHARS = 200;
