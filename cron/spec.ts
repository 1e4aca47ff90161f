// A job's definition → what Temporal holds: the schedule `cron:<name>` (spec, policies,
// state, the run workflow as its action, memos) or, for a one-shot `at`, a run workflow
// `cron:<name>` started with a delay. Pure mapping, plus the hash reconciliation compares.
import { createHash } from 'node:crypto';
import type { ScheduleDescription, ScheduleOptions, ScheduleOverlapPolicy, ScheduleSpec, ScheduleUpdateOptions, WorkflowStartOptions } from '@temporalio/client';
import { parseDuration } from '../config/duration.js';
import { WORKFLOW_TASK_QUEUE, parseSessionKey, scheduleId, sessionKeyOf } from '../contracts/names.js';
import {
  CRON_DELIVERY_TIMEOUT_MS,
  CRON_RUN_WORKFLOW_TYPE,
  MANAGED_BY,
  type CronJob,
  type CronJobKind,
  type CronJobSource,
  type CronRunInput,
  type OverlapMode,
  type RunMemo,
  type ScheduleMemo,
} from './types.js';
import { resolveAt } from './validate.js';

export const OVERLAP_POLICIES: Record<OverlapMode, Exclude<ScheduleOverlapPolicy, undefined>> = {
  skip: 'SKIP',
  bufferOne: 'BUFFER_ONE',
  bufferAll: 'BUFFER_ALL',
  cancelOther: 'CANCEL_OTHER',
  terminateOther: 'TERMINATE_OTHER',
  allowAll: 'ALLOW_ALL',
};

/** The isolated session of a job: `agent:<agent>:cron:<name>`. */
export function isolatedSessionKey(agentId: string, name: string): string {
  return sessionKeyOf(agentId, `cron:${name}`);
}

/** The id of the schedule (or the one-shot's workflow) of a job. */
export function cronJobId(name: string): string {
  return scheduleId(name);
}

export function jobKind(job: Pick<CronJob, 'schedule'>): CronJobKind {
  return job.schedule.at !== undefined ? 'at' : 'schedule';
}

export interface CronTarget {
  agentId: string;
  sessionKey: string;
  isolated: boolean;
}

/** A problem with `agent` and `session` together, or undefined. */
export function targetProblem(job: Pick<CronJob, 'agent' | 'session'>): string | undefined {
  if (job.session === undefined) return undefined;
  if (job.session.startsWith('agent:')) {
    const parsed = parseSessionKey(job.session);
    if (!parsed) return `"${job.session}" is not a session key agent:<agent>:<scope>`;
    if (job.agent !== undefined && job.agent !== parsed.agentId) {
      return `the session key names agent "${parsed.agentId}" but agent is "${job.agent}"; give one of them`;
    }
  }
  return undefined;
}

/** Which agent runs the job, and in which session. */
export function resolveTarget(name: string, job: Pick<CronJob, 'agent' | 'session'>): CronTarget {
  const problem = targetProblem(job);
  if (problem) throw new Error(problem);
  if (job.session === undefined) {
    const agentId = job.agent ?? 'main';
    return { agentId, sessionKey: isolatedSessionKey(agentId, name), isolated: true };
  }
  const parsed = job.session.startsWith('agent:') ? parseSessionKey(job.session) : undefined;
  if (parsed) return { agentId: parsed.agentId, sessionKey: job.session, isolated: false };
  const agentId = job.agent ?? 'main';
  return { agentId, sessionKey: sessionKeyOf(agentId, job.session), isolated: false };
}

/** The definition with its keys in a fixed order and unset ones dropped, as stored and hashed. */
export function normalizeJob(job: CronJob): CronJob {
  return JSON.parse(canonicalJson(job)) as CronJob;
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Hash of what the job should be (definition and kind of mapping), compared at every start. */
export function specHash(job: CronJob): string {
  return createHash('sha256').update(`v1:${canonicalJson(job)}`).digest('hex').slice(0, 16);
}

export function runInput(name: string, job: CronJob): CronRunInput {
  const target = resolveTarget(name, job);
  return {
    job: name,
    kind: jobKind(job),
    ...target,
    prompt: job.prompt,
    timeoutMs: parseDuration(job.timeout),
    ...(job.deliver?.url ? { deliver: { url: job.deliver.url } } : {}),
    definition: normalizeJob(job),
  };
}

export function scheduleSpec(job: CronJob): ScheduleSpec {
  const when = job.schedule;
  const spec: ScheduleSpec = {};
  if (when.cron !== undefined) {
    spec.cronExpressions = [when.cron.trim()];
    if (when.timezone !== undefined) spec.timezone = when.timezone;
  }
  if (when.every !== undefined) {
    spec.intervals = [{ every: parseDuration(when.every), ...(when.offset !== undefined ? { offset: parseDuration(when.offset) } : {}) }];
  }
  if (when.jitter !== undefined) spec.jitter = parseDuration(when.jitter);
  if (when.startAt !== undefined) spec.startAt = new Date(when.startAt);
  if (when.endAt !== undefined) spec.endAt = new Date(when.endAt);
  return spec;
}

/**
 * A run that outlives its own timeout (no worker polling, say) is ended by Temporal, so that
 * a stuck run never keeps an overlap policy from starting the next ones.
 */
export function runExecutionTimeoutMs(job: CronJob): number {
  return parseDuration(job.timeout) + CRON_DELIVERY_TIMEOUT_MS + 60_000;
}

export function scheduleMemo(name: string, source: CronJobSource): ScheduleMemo {
  return { managedBy: MANAGED_BY, source, job: name };
}

export function scheduleRunMemo(name: string, job: CronJob): RunMemo {
  return { managedBy: MANAGED_BY, job: name, specHash: specHash(job), kind: 'schedule' };
}

export const CONFIG_PAUSE_NOTE = 'paused in config (cron.<name>.paused)';

function scheduleAction(name: string, job: CronJob) {
  return {
    type: 'startWorkflow' as const,
    workflowType: CRON_RUN_WORKFLOW_TYPE,
    workflowId: cronJobId(name),
    taskQueue: WORKFLOW_TASK_QUEUE,
    args: [runInput(name, job)],
    memo: scheduleRunMemo(name, job) as unknown as Record<string, unknown>,
    workflowExecutionTimeout: runExecutionTimeoutMs(job),
  };
}

function schedulePolicies(job: CronJob) {
  return {
    overlap: OVERLAP_POLICIES[job.overlap],
    catchupWindow: parseDuration(job.catchupWindow),
    pauseOnFailure: job.pauseOnFailure,
  };
}

/** Everything `client.schedule.create` needs for a recurring job. */
export function scheduleOptions(name: string, job: CronJob, source: CronJobSource): ScheduleOptions {
  if (jobKind(job) !== 'schedule') throw new Error(`job ${name} is a one-shot (at), not a schedule`);
  return {
    scheduleId: cronJobId(name),
    spec: scheduleSpec(job),
    action: scheduleAction(name, job),
    policies: schedulePolicies(job),
    memo: scheduleMemo(name, source) as unknown as Record<string, unknown>,
    state: job.paused ? { paused: true, note: CONFIG_PAUSE_NOTE.replace('<name>', name) } : { paused: false },
  };
}

/**
 * The update of an existing schedule to `job`. Its paused state and note stay as they are
 * (an operator's pause survives a change of prompt), unless `applyPaused` says the job's own
 * `paused` changed.
 */
export function scheduleUpdate(name: string, job: CronJob, current: Pick<ScheduleDescription, 'state'>, applyPaused: boolean): ScheduleUpdateOptions {
  const state = applyPaused
    ? job.paused
      ? { paused: true, note: CONFIG_PAUSE_NOTE.replace('<name>', name) }
      : { paused: false, note: '' }
    : { paused: current.state.paused, ...(current.state.note !== undefined ? { note: current.state.note } : {}) };
  return {
    spec: scheduleSpec(job),
    action: scheduleAction(name, job),
    policies: schedulePolicies(job),
    state: { ...state, ...(current.state.remainingActions !== undefined ? { remainingActions: current.state.remainingActions } : {}) },
  };
}

export function oneShotMemo(name: string, job: CronJob, source: CronJobSource, runAt: number): RunMemo {
  return { managedBy: MANAGED_BY, job: name, specHash: specHash(job), kind: 'at', source, runAt: new Date(runAt).toISOString(), definition: normalizeJob(job) };
}

/** The delayed start of a one-shot job's run workflow; `now` resolves a relative `at`. */
export function oneShotStart(name: string, job: CronJob, source: CronJobSource, now: number): { runAt: number; options: WorkflowStartOptions } {
  if (jobKind(job) !== 'at') throw new Error(`job ${name} is a schedule, not a one-shot (at)`);
  const runAt = resolveAt(job.schedule.at!, now);
  return {
    runAt,
    options: {
      workflowId: cronJobId(name),
      taskQueue: WORKFLOW_TASK_QUEUE,
      args: [runInput(name, job)],
      startDelay: Math.max(0, runAt - now),
      memo: oneShotMemo(name, job, source, runAt) as unknown as Record<string, unknown>,
    },
  };
}
