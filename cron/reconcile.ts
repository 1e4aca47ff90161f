// Config → Temporal, at every start: the jobs under `cron.<name>` are made to exist as
// declared. What is missing is created; what changed (its definition hash differs) is
// updated in place; what is unchanged is not touched; and a job Switchyard created from
// config (`memo.source: "config"`) that left the config is deleted. Jobs added at run time
// (`source: "runtime"`) and schedules Switchyard did not create are never deleted.
//
// Idempotent, and safe when several processes run it at once (two workers starting
// together): every step is a convergent write. Two creations of one job race to
// `ScheduleAlreadyRunning` / `WorkflowExecutionAlreadyStarted`, which is read as "someone
// else created it" and compared again; two updates write the same definition; a deletion
// of something already gone is fine.
//
// The hash lives in the schedule action's memo (which every run inherits), not in the
// schedule's own memo: Temporal 1.29 ignores memo changes in UpdateSchedule, while the
// action is replaced whole by every update.
import { ScheduleNotFoundError } from '@temporalio/client';
import { CronError } from './errors.js';
import type { CronService, JobRecord } from './service.js';
import { cronJobId, jobKind, specHash } from './spec.js';
import { CRON_RUN_WORKFLOW_TYPE, MANAGED_BY, type CronJob, type RunMemo, type ScheduleMemo } from './types.js';

export interface ReconcileReport {
  created: string[];
  updated: string[];
  unchanged: string[];
  deleted: string[];
  /** Jobs left as they are, and why (a schedule of that id Switchyard did not create, a one-shot time past, ...). */
  skipped: { name: string; reason: string }[];
}

export interface ReconcileOptions {
  log?: (level: 'info' | 'warn', message: string) => void;
}

type Outcome = 'created' | 'updated' | 'unchanged';

export async function reconcileCronJobs(service: CronService, desired: Record<string, CronJob>, options: ReconcileOptions = {}): Promise<ReconcileReport> {
  const log = options.log ?? (() => undefined);
  const report: ReconcileReport = { created: [], updated: [], unchanged: [], deleted: [], skipped: [] };

  const transient: string[] = [];
  for (const [name, job] of Object.entries(desired)) {
    try {
      const outcome = await reconcileOne(service, name, job);
      report[outcome].push(name);
      if (outcome !== 'unchanged') log('info', `cron: ${outcome} ${cronJobId(name)}`);
    } catch (error) {
      const reason = (error as Error).message;
      if (!(error instanceof CronError)) {
        transient.push(`${name}: ${reason}`);
        continue;
      }
      report.skipped.push({ name, reason });
      log('warn', `cron: left ${cronJobId(name)} as it is: ${reason}`);
    }
  }

  for (const name of await configJobsInTemporal(service)) {
    if (Object.hasOwn(desired, name)) continue;
    try {
      if (await deleteConfigJob(service, name)) {
        report.deleted.push(name);
        log('info', `cron: deleted ${cronJobId(name)} (no longer in config)`);
      }
    } catch (error) {
      transient.push(`${name}: ${(error as Error).message}`);
    }
  }
  // Temporal unavailable, a timeout: the caller retries the whole (idempotent) pass.
  if (transient.length > 0) throw new Error(`cron reconciliation incomplete: ${transient.join('; ')}`);
  return report;
}

async function reconcileOne(service: CronService, name: string, job: CronJob): Promise<Outcome> {
  const hash = specHash(job);
  // Twice at most: a creation that lost a race compares with what the winner created.
  for (let round = 0; round < 2; round++) {
    const record = await service.record(name);
    if (!record || (record.kind === 'at' && !record.open && (!record.managed || record.source !== 'config' || record.memo.specHash !== hash))) {
      if (await service.create(name, job, 'config', { failIfExists: false })) return 'created';
      continue;
    }
    if (!record.managed) throw new CronError('foreign', `${cronJobId(name)} exists but was not created by Switchyard`, name);
    if (upToDate(record, job, hash)) return 'unchanged';
    const applyPaused = record.kind !== 'schedule' || record.source !== 'config' || record.input.definition.paused !== job.paused;
    await service.replace(name, record, job, 'config', { applyPaused });
    return 'updated';
  }
  return 'unchanged';
}

function upToDate(record: Extract<JobRecord, { managed: true }>, job: CronJob, hash: string): boolean {
  if (record.source !== 'config' || record.kind !== jobKind(job)) return false;
  return record.kind === 'schedule' ? record.hash === hash : record.memo.specHash === hash;
}

/** Names of the jobs Temporal holds with `source: "config"`: schedules, and one-shots not yet run. */
async function configJobsInTemporal(service: CronService): Promise<string[]> {
  const names = new Set<string>();
  for await (const summary of service.client.schedule.list()) {
    const memo = summary.memo as Partial<ScheduleMemo> | undefined;
    if (summary.scheduleId.startsWith('cron:') && memo?.managedBy === MANAGED_BY && memo.source === 'config') names.add(summary.scheduleId.slice(5));
  }
  const query = `WorkflowType = '${CRON_RUN_WORKFLOW_TYPE}' AND TemporalScheduledById IS NULL AND ExecutionStatus = 'Running'`;
  for await (const execution of service.client.workflow.list({ query })) {
    const memo = execution.memo as Partial<RunMemo> | undefined;
    if (memo?.managedBy === MANAGED_BY && memo.kind === 'at' && memo.source === 'config' && memo.job) names.add(memo.job);
  }
  return [...names];
}

/** Deletes a config job that left the config, after checking (strongly) that it is still one. */
async function deleteConfigJob(service: CronService, name: string): Promise<boolean> {
  const record = await service.record(name);
  if (!record || !record.managed || record.source !== 'config') return false;
  if (record.kind === 'schedule') {
    try {
      await service.client.schedule.getHandle(cronJobId(name)).delete();
    } catch (error) {
      if (error instanceof ScheduleNotFoundError) return false;
      throw error;
    }
    return true;
  }
  if (!record.open) return false;
  await service.client.workflow.getHandle(cronJobId(name)).terminate('removed from config');
  return true;
}

/**
 * Reconciles until a pass completes (Temporal may not be reachable yet when a worker
 * starts), with backoff from 1 s to 30 s; stops early when `signal` aborts.
 */
export async function reconcileUntilDone(
  service: CronService,
  desired: Record<string, CronJob>,
  options: ReconcileOptions & { signal?: AbortSignal; initialDelayMs?: number; maxDelayMs?: number } = {},
): Promise<ReconcileReport | undefined> {
  let delay = options.initialDelayMs ?? 1000;
  for (;;) {
    try {
      return await reconcileCronJobs(service, desired, options);
    } catch (error) {
      options.log?.('warn', `cron: reconciliation failed, retrying in ${Math.round(delay / 1000)} s: ${(error as Error).message}`);
    }
    if (options.signal?.aborted) return undefined;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, delay);
      options.signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
    });
    if (options.signal?.aborted) return undefined;
    delay = Math.min(delay * 2, options.maxDelayMs ?? 30_000);
  }
}
