// Run-time operations on cron jobs, on a Temporal Client: add, list, get, update, pause,
// resume, trigger, remove and runs. The RPC methods and the CLI are thin layers over this.
//
// A recurring job is the Temporal Schedule `cron:<name>`; a one-shot (`at`) is the run
// workflow `cron:<name>` started with a delay. Everything a job is lives in Temporal (the
// definition is the schedule action's argument, or the one-shot's memo), so any process
// can answer for any job, and the Temporal UI and CLI show the same thing.
import {
  type Client,
  ScheduleAlreadyRunning,
  type ScheduleDescription,
  ScheduleNotFoundError,
  type WorkflowExecutionDescription,
  WorkflowExecutionAlreadyStartedError,
  type WorkflowExecutionInfo,
  WorkflowNotFoundError,
} from '@temporalio/client';
import { CronError, validationIssues } from './errors.js';
import { OVERLAP_POLICIES, cronJobId, jobKind, oneShotStart, resolveTarget, scheduleOptions, scheduleUpdate, specHash } from './spec.js';
import {
  CRON_RUN_WORKFLOW_TYPE,
  CRON_TRIGGER_SIGNAL,
  MANAGED_BY,
  type CronJob,
  type CronJobKind,
  type CronJobSource,
  type CronRunInput,
  type OverlapMode,
  type RunMemo,
  type ScheduleMemo,
} from './types.js';

export interface CronServiceOptions {
  /**
   * Checks a definition and fills its defaults (the config schema's job schema). Throws a
   * CronError `invalid` (or any error, which is reported as one) when it is wrong.
   */
  validate: (job: unknown, name: string) => CronJob;
  /** Agents a job may name; a job for another agent is refused. Unset: not checked. */
  knownAgents?: () => readonly string[];
  now?: () => number;
}

/** A one-shot's state: `pending` until its time, then Temporal's execution status, lowercased. */
export type OneShotState = 'pending' | 'running' | 'completed' | 'failed' | 'cancelled' | 'terminated' | 'timed_out' | 'continued_as_new' | 'unknown';

export interface CronJobView {
  name: string;
  /** The schedule id, or the one-shot's workflow id: `cron:<name>`. */
  id: string;
  kind: CronJobKind;
  source: CronJobSource;
  job: CronJob;
  agentId: string;
  sessionKey: string;
  isolated: boolean;
  paused: boolean;
  note?: string;
  /** Schedules: `active` or `paused`; one-shots: see OneShotState. */
  state: 'active' | 'paused' | OneShotState;
  /** ISO times of the next runs (a one-shot: its time while pending). */
  nextRunTimes: string[];
  lastRunAt?: string;
  specHash: string;
  /** `get` only: Temporal's counters and recent actions. */
  info?: CronJobInfo;
}

export interface CronJobInfo {
  createdAt?: string;
  updatedAt?: string;
  actionCount?: number;
  missedCatchupWindow?: number;
  skippedOverlap?: number;
  /** Workflow ids of runs in progress. */
  running: string[];
  recent: { scheduledAt: string; takenAt: string; workflowId: string }[];
}

export interface CronRunView {
  workflowId: string;
  runId: string;
  /** Temporal's execution status, lowercased: running, completed, failed, timed_out, cancelled, terminated. */
  status: string;
  /** What the run recorded: running, completed, failed, cancelled, timed-out. */
  outcome?: string;
  scheduledAt?: string;
  startedAt: string;
  closedAt?: string;
  durationMs?: number;
  result?: string;
  reason?: string;
}

export type CronJobPatch = Partial<Omit<CronJob, 'schedule'>> & { schedule?: CronJob['schedule'] };

/** What Temporal holds under `cron:<name>`. */
export type JobRecord =
  | { kind: 'schedule'; managed: true; source: CronJobSource; description: ScheduleDescription; input: CronRunInput; hash: string }
  | { kind: 'schedule'; managed: false; description: ScheduleDescription }
  | { kind: 'at'; managed: true; source: CronJobSource; description: WorkflowExecutionDescription; memo: RunMemo; open: boolean }
  | { kind: 'at'; managed: false; description: WorkflowExecutionDescription; open: boolean };

type ExecutionLike = Pick<WorkflowExecutionInfo, 'workflowId' | 'status' | 'startTime' | 'executionTime'>;

const DEFAULT_PAUSE_NOTE = 'paused from Switchyard';
const DEFAULT_RESUME_NOTE = 'resumed from Switchyard';

export class CronService {
  private readonly now: () => number;

  constructor(
    readonly client: Client,
    private readonly options: CronServiceOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /** Checks a definition: the schema, the agent and the session together. */
  validate(name: string, job: unknown): CronJob {
    let valid: CronJob;
    try {
      valid = this.options.validate(job, name);
    } catch (error) {
      if (error instanceof CronError) throw error;
      const issues = validationIssues(error);
      const detail = issues ? issues.map((issue) => `${issue.path.join('.') || '(job)'}: ${issue.message}`).join('; ') : (error as Error).message;
      throw new CronError('invalid', `cron job ${name}: ${detail}`, name, { cause: error });
    }
    let target;
    try {
      target = resolveTarget(name, valid);
    } catch (error) {
      throw new CronError('invalid', `cron job ${name}: session: ${(error as Error).message}`, name);
    }
    const agents = this.options.knownAgents?.();
    if (agents && !agents.includes(target.agentId)) {
      throw new CronError('invalid', `cron job ${name}: agent "${target.agentId}" is not configured (known: ${agents.join(', ')})`, name);
    }
    return valid;
  }

  /** Creates a run-time job (config jobs are created by reconciliation, with `source: 'config'`). */
  async add(name: string, job: unknown, options: { source?: CronJobSource } = {}): Promise<CronJobView> {
    const valid = this.validate(name, job);
    await this.create(name, valid, options.source ?? 'runtime', { failIfExists: true });
    return this.get(name);
  }

  /** Creates `cron:<name>` for `job`. Without failIfExists, an existing one is left alone and false is returned. */
  async create(name: string, job: CronJob, source: CronJobSource, { failIfExists }: { failIfExists: boolean }): Promise<boolean> {
    const existing = await this.record(name);
    if (existing && (existing.kind === 'schedule' || existing.open)) {
      if (!failIfExists) return false;
      throw new CronError('exists', existing.managed ? `cron job ${name} exists already` : `${cronJobId(name)} exists but was not created by Switchyard`, name);
    }
    if (jobKind(job) === 'schedule') {
      try {
        await this.client.schedule.create(scheduleOptions(name, job, source));
      } catch (error) {
        if (!(error instanceof ScheduleAlreadyRunning)) throw error;
        if (!failIfExists) return false;
        throw new CronError('exists', `cron job ${name} exists already`, name);
      }
      return true;
    }
    const now = this.now();
    const { runAt, options } = oneShotStart(name, job, source, now);
    if (runAt <= now) throw new CronError('invalid', `cron job ${name}: schedule.at ${job.schedule.at} is in the past`, name);
    try {
      await this.client.workflow.start(CRON_RUN_WORKFLOW_TYPE, { ...options, workflowIdConflictPolicy: 'FAIL' });
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      if (!failIfExists) return false;
      throw new CronError('exists', `cron job ${name} exists already`, name);
    }
    return true;
  }

  /** Every job Switchyard manages: schedules, then pending one-shots, by name. */
  async list(): Promise<CronJobView[]> {
    const views: CronJobView[] = [];
    for await (const summary of this.client.schedule.list()) {
      const name = summary.scheduleId.startsWith('cron:') ? summary.scheduleId.slice(5) : undefined;
      if (name === undefined || summary.memo?.managedBy !== MANAGED_BY) continue;
      const record = await this.record(name).catch(() => undefined);
      if (record?.kind === 'schedule' && record.managed) views.push(this.scheduleView(name, record, false));
    }
    const query = `WorkflowType = '${CRON_RUN_WORKFLOW_TYPE}' AND TemporalScheduledById IS NULL AND ExecutionStatus = 'Running'`;
    for await (const execution of this.client.workflow.list({ query })) {
      const memo = execution.memo as RunMemo | undefined;
      if (memo?.managedBy !== MANAGED_BY || memo.kind !== 'at' || !memo.definition) continue;
      views.push(this.oneShotView(memo.job, execution, memo));
    }
    return views.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async get(name: string): Promise<CronJobView> {
    const record = await this.managedRecord(name);
    return record.kind === 'schedule' ? this.scheduleView(name, record, true) : this.oneShotView(name, record.description, record.memo);
  }

  /**
   * Changes a run-time job: `patch` is merged over its definition (a `schedule` replaces the
   * old one whole). The paused state is kept unless the patch sets `paused`.
   */
  async update(name: string, patch: CronJobPatch): Promise<CronJobView> {
    const record = await this.managedRecord(name);
    if (record.source === 'config') {
      throw new CronError('config_owned', `cron job ${name} is declared in config (cron.${name}): change it there; it is applied at the next start`, name);
    }
    const current = record.kind === 'schedule' ? record.input.definition : record.memo.definition!;
    const merged = this.validate(name, { ...current, ...patch, ...(patch.schedule ? { schedule: patch.schedule } : {}) });
    await this.replace(name, record, merged, 'runtime', { applyPaused: patch.paused !== undefined });
    return this.get(name);
  }

  /** Puts `job` in place of what `record` holds (reconciliation uses it too). */
  async replace(name: string, record: JobRecord, job: CronJob, source: CronJobSource, { applyPaused }: { applyPaused: boolean }): Promise<void> {
    const kind = jobKind(job);
    if (record.kind === 'schedule' && kind === 'schedule' && (!record.managed || record.source === source)) {
      await this.client.schedule.getHandle(cronJobId(name)).update((previous) => scheduleUpdate(name, job, previous, applyPaused));
      return;
    }
    // Another kind, or another owner (the schedule memo cannot be changed): replace it.
    if (record.kind === 'schedule') {
      await this.client.schedule.getHandle(cronJobId(name)).delete().catch(ignoreNotFound);
    } else if (record.open) {
      if (kind === 'at') {
        const now = this.now();
        const { runAt, options } = oneShotStart(name, job, source, now);
        if (runAt <= now) throw new CronError('invalid', `cron job ${name}: schedule.at ${job.schedule.at} is in the past`, name);
        // One call: the pending run is terminated and the new one started atomically.
        await this.client.workflow.start(CRON_RUN_WORKFLOW_TYPE, { ...options, workflowIdConflictPolicy: 'TERMINATE_EXISTING' });
        return;
      }
      await this.terminate(name, 'replaced by a new definition');
    }
    await this.create(name, job, source, { failIfExists: false });
  }

  async pause(name: string, note?: string): Promise<CronJobView> {
    await this.schedule(name, 'pause').then((handle) => handle.pause(note || DEFAULT_PAUSE_NOTE));
    return this.get(name);
  }

  async resume(name: string, note?: string): Promise<CronJobView> {
    await this.schedule(name, 'resume').then((handle) => handle.unpause(note || DEFAULT_RESUME_NOTE));
    return this.get(name);
  }

  /**
   * Runs the job now. A schedule takes an action at once (by default even if a run is in
   * progress: `allowAll`); a pending one-shot starts now instead of at its time.
   */
  async trigger(name: string, options: { overlap?: OverlapMode } = {}): Promise<{ name: string; kind: CronJobKind; triggeredAt: string }> {
    const record = await this.managedRecord(name);
    const triggeredAt = new Date(this.now()).toISOString();
    if (record.kind === 'schedule') {
      await this.client.schedule.getHandle(cronJobId(name)).trigger(OVERLAP_POLICIES[options.overlap ?? 'allowAll']);
      return { name, kind: 'schedule', triggeredAt };
    }
    if (!record.open) throw new CronError('not_found', `cron job ${name} has no pending run: it ran already (see cron runs ${name})`, name);
    // Signal-with-start skips the rest of a start delay; a closed run is not started again.
    await this.client.workflow.signalWithStart(CRON_RUN_WORKFLOW_TYPE, {
      workflowId: cronJobId(name),
      taskQueue: record.description.taskQueue,
      args: [],
      signal: CRON_TRIGGER_SIGNAL,
      signalArgs: [],
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
    });
    return { name, kind: 'at', triggeredAt };
  }

  /** Deletes a run-time job (its past runs stay in Temporal's visibility until retention). */
  async remove(name: string): Promise<{ name: string; kind: CronJobKind; removed: true }> {
    const record = await this.managedRecord(name);
    if (record.source === 'config') {
      throw new CronError('config_owned', `cron job ${name} is declared in config (cron.${name}): remove it there (or pause it); removing it here would not last past the next start`, name);
    }
    if (record.kind === 'schedule') {
      await this.client.schedule.getHandle(cronJobId(name)).delete().catch(ignoreNotFound);
      return { name, kind: 'schedule', removed: true };
    }
    if (!record.open) throw new CronError('not_found', `cron job ${name} has no pending run: it ran already`, name);
    await this.terminate(name, 'removed');
    return { name, kind: 'at', removed: true };
  }

  /** Recent runs from Temporal's visibility (eventually consistent): running ones first, then the latest closed. */
  async runs(name: string, options: { limit?: number } = {}): Promise<CronRunView[]> {
    const limit = Math.max(1, Math.min(options.limit ?? 20, 1000));
    const id = quote(cronJobId(name));
    const query = `WorkflowType = '${CRON_RUN_WORKFLOW_TYPE}' AND (TemporalScheduledById = ${id} OR WorkflowId = ${id})`;
    const runs: CronRunView[] = [];
    for await (const execution of this.client.workflow.list({ query, pageSize: limit })) {
      runs.push(runView(execution));
      if (runs.length >= limit) break;
    }
    return runs;
  }

  /** What Temporal holds under `cron:<name>`, managed by Switchyard or not; undefined when nothing. */
  async record(name: string): Promise<JobRecord | undefined> {
    const id = cronJobId(name);
    try {
      const description = await this.client.schedule.getHandle(id).describe();
      const memo = description.memo as Partial<ScheduleMemo> | undefined;
      const input = description.action.args?.[0] as CronRunInput | undefined;
      if (memo?.managedBy !== MANAGED_BY || description.action.workflowType !== CRON_RUN_WORKFLOW_TYPE || !input?.definition) {
        return { kind: 'schedule', managed: false, description };
      }
      const runMemo = description.action.memo as Partial<RunMemo> | undefined;
      return { kind: 'schedule', managed: true, source: memo.source === 'config' ? 'config' : 'runtime', description, input, hash: runMemo?.specHash ?? '' };
    } catch (error) {
      if (!(error instanceof ScheduleNotFoundError)) throw error;
    }
    try {
      const description = await this.client.workflow.getHandle(id).describe();
      const open = description.status.name === 'RUNNING';
      const memo = description.memo as RunMemo | undefined;
      if (description.type !== CRON_RUN_WORKFLOW_TYPE || memo?.managedBy !== MANAGED_BY || memo.kind !== 'at' || !memo.definition) {
        return { kind: 'at', managed: false, description, open };
      }
      return { kind: 'at', managed: true, source: memo.source === 'config' ? 'config' : 'runtime', description, memo, open };
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return undefined;
      throw error;
    }
  }

  private async managedRecord(name: string): Promise<Extract<JobRecord, { managed: true }>> {
    const record = await this.record(name);
    if (!record) throw new CronError('not_found', `no cron job named ${name}`, name);
    if (!record.managed) throw new CronError('foreign', `${cronJobId(name)} exists but was not created by Switchyard; manage it with the temporal CLI`, name);
    return record;
  }

  private async schedule(name: string, operation: string) {
    const record = await this.managedRecord(name);
    if (record.kind !== 'schedule') {
      throw new CronError('unsupported', `cron job ${name} is a one-shot (at): it cannot ${operation}; remove it or change its time`, name);
    }
    return this.client.schedule.getHandle(cronJobId(name));
  }

  private async terminate(name: string, reason: string): Promise<void> {
    try {
      await this.client.workflow.getHandle(cronJobId(name)).terminate(reason);
    } catch (error) {
      if (!(error instanceof WorkflowNotFoundError)) throw error;
    }
  }

  private scheduleView(name: string, record: Extract<JobRecord, { kind: 'schedule'; managed: true }>, detailed: boolean): CronJobView {
    const { description, input } = record;
    const recent = description.info.recentActions;
    const last = recent.at(-1);
    return {
      name,
      id: cronJobId(name),
      kind: 'schedule',
      source: record.source,
      job: input.definition,
      agentId: input.agentId,
      sessionKey: input.sessionKey,
      isolated: input.isolated,
      paused: description.state.paused,
      ...(description.state.note ? { note: description.state.note } : {}),
      state: description.state.paused ? 'paused' : 'active',
      nextRunTimes: description.state.paused ? [] : description.info.nextActionTimes.map((time) => time.toISOString()),
      ...(last ? { lastRunAt: last.takenAt.toISOString() } : {}),
      specHash: record.hash || specHash(input.definition),
      ...(detailed
        ? {
            info: {
              createdAt: description.info.createdAt.toISOString(),
              ...(description.info.lastUpdatedAt ? { updatedAt: description.info.lastUpdatedAt.toISOString() } : {}),
              actionCount: description.info.numActionsTaken,
              missedCatchupWindow: description.info.numActionsMissedCatchupWindow,
              skippedOverlap: description.info.numActionsSkippedOverlap,
              running: description.info.runningActions.map((action) => action.workflow.workflowId),
              recent: recent.map((action) => ({
                scheduledAt: action.scheduledAt.toISOString(),
                takenAt: action.takenAt.toISOString(),
                workflowId: action.action.workflow.workflowId,
              })),
            },
          }
        : {}),
    };
  }

  private oneShotView(name: string, execution: ExecutionLike, memo: RunMemo): CronJobView {
    const job = memo.definition!;
    const target = resolveTarget(name, job);
    const state = oneShotState(execution, this.now());
    return {
      name,
      id: cronJobId(name),
      kind: 'at',
      source: memo.source === 'config' ? 'config' : 'runtime',
      job,
      ...target,
      paused: false,
      state,
      nextRunTimes: state === 'pending' && memo.runAt ? [memo.runAt] : [],
      ...(state !== 'pending' && execution.executionTime ? { lastRunAt: execution.executionTime.toISOString() } : {}),
      specHash: memo.specHash,
      info: {
        createdAt: execution.startTime.toISOString(),
        running: state === 'running' ? [execution.workflowId] : [],
        recent: [],
      },
    };
  }
}

function oneShotState(execution: ExecutionLike, now: number): OneShotState {
  const status = execution.status.name;
  if (status === 'RUNNING') return execution.executionTime && execution.executionTime.getTime() > now ? 'pending' : 'running';
  if (status === 'CANCELLED') return 'cancelled';
  const known = ['COMPLETED', 'FAILED', 'TERMINATED', 'TIMED_OUT', 'CONTINUED_AS_NEW'];
  return known.includes(status) ? (status.toLowerCase() as OneShotState) : 'unknown';
}

function runView(execution: WorkflowExecutionInfo): CronRunView {
  const memo = (execution.memo ?? {}) as Partial<RunMemo>;
  const scheduled = execution.searchAttributes?.TemporalScheduledStartTime?.[0];
  const started = execution.executionTime ?? execution.startTime;
  return {
    workflowId: execution.workflowId,
    runId: execution.runId,
    status: execution.status.name.toLowerCase(),
    ...(typeof memo.status === 'string' ? { outcome: memo.status } : {}),
    ...(scheduled instanceof Date ? { scheduledAt: scheduled.toISOString() } : typeof scheduled === 'string' ? { scheduledAt: scheduled } : {}),
    startedAt: started.toISOString(),
    ...(execution.closeTime ? { closedAt: execution.closeTime.toISOString(), durationMs: execution.closeTime.getTime() - started.getTime() } : {}),
    ...(typeof memo.result === 'string' ? { result: memo.result } : {}),
    ...(typeof memo.reason === 'string' ? { reason: memo.reason } : {}),
  };
}

function ignoreNotFound(error: unknown): void {
  if (!(error instanceof ScheduleNotFoundError)) throw error;
}

/** A string literal of Temporal's visibility query language. */
function quote(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}
