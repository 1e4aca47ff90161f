// cron.*: jobs on Temporal Schedules (docs/cron.md). Thin: each method is one CronService
// call (cron/service.ts) with its errors mapped to JSON-RPC answers.
import { z } from 'zod';
import { CronJobName, CronJobPatchSchema, CronJobSchema } from '../../../config/cron-schema.js';
import { agentIds } from '../../../config/schema.js';
import { CronError, validationIssues } from '../../../cron/errors.js';
import { CronService } from '../../../cron/service.js';
import { OVERLAP_MODES, type CronJob } from '../../../cron/types.js';
import type { RpcServices } from '../context.js';
import { invalidParams } from '../errors.js';
import { defineMethod } from '../method.js';
import { APP_ERRORS, RpcError } from '../protocol.js';

function cronService(services: RpcServices): CronService {
  return new CronService(services.client, {
    validate: (job) => CronJobSchema.parse(job) as CronJob,
    knownAgents: () => agentIds(services.config),
  });
}

/** Runs a CronService call, answering its errors with their codes (`field` prefixes validation paths). */
async function cron<T>(services: RpcServices, field: string, call: (service: CronService) => Promise<T>): Promise<T> {
  try {
    return await call(cronService(services));
  } catch (error) {
    if (!(error instanceof CronError)) throw error;
    const data = { name: error.job };
    switch (error.code) {
      case 'not_found':
        throw RpcError.app('cronJobNotFound', data, error.message);
      case 'exists':
        throw RpcError.app('cronJobExists', data, error.message);
      case 'config_owned':
        throw RpcError.app('cronJobInConfig', data, error.message);
      case 'unsupported':
        throw RpcError.app('cronJobUnsupported', data, error.message);
      case 'foreign':
        throw RpcError.app('cronJobForeign', data, error.message);
      case 'invalid': {
        const issues = validationIssues(error.cause);
        throw invalidParams(issues ? issues.map((issue) => ({ ...issue, path: [field, ...issue.path] })) : [{ path: [field], message: error.message }]);
      }
    }
  }
}

const NameParams = z.strictObject({ name: CronJobName.describe('The job: its schedule is `cron:<name>`.') });

const CronJobView = z.object({
  name: z.string(),
  id: z.string().describe('The schedule id (or the one-shot\'s workflow id): cron:<name>.'),
  kind: z.enum(['schedule', 'at']),
  source: z.enum(['config', 'runtime']).describe('config: declared under cron.<name> and reconciled at every start; runtime: added with cron.add.'),
  job: CronJobSchema,
  agentId: z.string(),
  sessionKey: z.string().describe('The session the runs send into; subscribe to it for their events.'),
  isolated: z.boolean().describe('A fresh Claude session for every run.'),
  paused: z.boolean(),
  note: z.string().optional().describe('Why it was paused or resumed (set by pause, resume, pauseOnFailure, the Temporal UI or CLI).'),
  state: z.string().describe('Schedules: active or paused. One-shots: pending, running, completed, failed, terminated, ...'),
  nextRunTimes: z.array(z.string()).describe('ISO times of the next runs (none while paused).'),
  lastRunAt: z.string().optional(),
  specHash: z.string().describe('Hash of the definition, compared by reconciliation.'),
  info: z
    .object({
      createdAt: z.string().optional(),
      updatedAt: z.string().optional(),
      actionCount: z.number().int().optional().describe('Runs started so far.'),
      missedCatchupWindow: z.number().int().optional().describe('Runs dropped because they were missed by more than catchupWindow.'),
      skippedOverlap: z.number().int().optional().describe('Runs skipped by the overlap policy.'),
      running: z.array(z.string()).describe('Workflow ids of the runs in progress.'),
      recent: z.array(z.object({ scheduledAt: z.string(), takenAt: z.string(), workflowId: z.string() })),
    })
    .optional()
    .describe("cron.get only: Temporal's counters and recent actions."),
});

const CronRunView = z.object({
  workflowId: z.string().describe('cron:<name>-<scheduled time> (a one-shot: cron:<name>); also the idempotency key of the run\'s message.'),
  runId: z.string(),
  status: z.string().describe("Temporal's execution status, lowercased: running, completed, failed, timed_out, cancelled, terminated."),
  outcome: z.string().optional().describe('What the run recorded: running, completed, failed, cancelled, timed-out.'),
  scheduledAt: z.string().optional(),
  startedAt: z.string(),
  closedAt: z.string().optional(),
  durationMs: z.number().optional(),
  result: z.string().optional().describe('The first 200 characters of the answer.'),
  reason: z.string().optional().describe('Why the run failed.'),
});

const JOB_ERRORS = [APP_ERRORS.cronJobNotFound.code, APP_ERRORS.cronJobForeign.code, APP_ERRORS.temporalUnavailable.code];
const EXAMPLE_JOB = { schedule: { cron: '0 9 * * MON-FRI', timezone: 'Europe/Paris' }, prompt: 'Summarise yesterday\'s merged pull requests' };

export const cronMethods = [
  defineMethod({
    name: 'cron.add',
    description:
      'Adds a run-time job: the Temporal Schedule `cron:<name>` (a one-shot `at`: a run workflow `cron:<name>` started with a delay). `job` takes the fields of a `cron.<name>` config entry (docs/cron.md).',
    params: z.strictObject({ name: CronJobName, job: CronJobSchema }),
    result: CronJobView,
    errors: [APP_ERRORS.cronJobExists.code, APP_ERRORS.temporalUnavailable.code],
    example: { name: 'weekday-report', job: EXAMPLE_JOB },
    handler: ({ name, job }, { services }) => cron(services, 'job', (service) => service.add(name, job)),
  }),
  defineMethod({
    name: 'cron.list',
    description: 'Every job Switchyard manages, by name: schedules (from config and run-time) and pending one-shots. The schedule list is eventually consistent: a job added a moment ago may be missing.',
    params: z.strictObject({}),
    result: z.object({ jobs: z.array(CronJobView) }),
    errors: [APP_ERRORS.temporalUnavailable.code],
    example: {},
    handler: async (_params, { services }) => ({ jobs: await cron(services, 'job', (service) => service.list()) }),
  }),
  defineMethod({
    name: 'cron.get',
    description: "A job: its definition, state, next runs and Temporal's counters (runs taken, missed outside the catch-up window, skipped by overlap).",
    params: NameParams,
    result: CronJobView,
    errors: JOB_ERRORS,
    example: { name: 'weekday-report' },
    handler: ({ name }, { services }) => cron(services, 'name', (service) => service.get(name)),
  }),
  defineMethod({
    name: 'cron.update',
    description:
      'Changes a run-time job in place: `patch` is merged over its definition (a `schedule` replaces the old one whole). A pause is kept unless the patch sets `paused`. Config jobs are changed in the config.',
    params: z.strictObject({ name: CronJobName, patch: CronJobPatchSchema }),
    result: CronJobView,
    errors: [...JOB_ERRORS, APP_ERRORS.cronJobInConfig.code],
    example: { name: 'weekday-report', patch: { prompt: 'Summarise yesterday\'s merged and closed pull requests' } },
    handler: ({ name, patch }, { services }) => cron(services, 'patch', (service) => service.update(name, patch)),
  }),
  defineMethod({
    name: 'cron.pause',
    description: 'Pauses a schedule (config or run-time); `note` says why (shown here, in the Temporal UI and by `temporal schedule describe`).',
    params: z.strictObject({ name: CronJobName, note: z.string().max(1000).optional() }),
    result: CronJobView,
    errors: [...JOB_ERRORS, APP_ERRORS.cronJobUnsupported.code],
    example: { name: 'weekday-report', note: 'holiday week' },
    handler: ({ name, note }, { services }) => cron(services, 'name', (service) => service.pause(name, note)),
  }),
  defineMethod({
    name: 'cron.resume',
    description: 'Resumes a paused schedule; runs missed while paused are not caught up.',
    params: z.strictObject({ name: CronJobName, note: z.string().max(1000).optional() }),
    result: CronJobView,
    errors: [...JOB_ERRORS, APP_ERRORS.cronJobUnsupported.code],
    example: { name: 'weekday-report' },
    handler: ({ name, note }, { services }) => cron(services, 'name', (service) => service.resume(name, note)),
  }),
  defineMethod({
    name: 'cron.trigger',
    description:
      "Runs a job now, even a paused one. `overlap` (default allowAll: run even beside a run in progress) applies to this run only; a run triggered with allowAll is not tracked by the schedule, so pauseOnFailure does not apply to it. A pending one-shot runs now instead of at its time.",
    params: z.strictObject({ name: CronJobName, overlap: z.enum(OVERLAP_MODES).optional() }),
    result: z.object({ name: z.string(), kind: z.enum(['schedule', 'at']), triggeredAt: z.string() }),
    errors: JOB_ERRORS,
    example: { name: 'weekday-report' },
    handler: ({ name, overlap }, { services }) => cron(services, 'name', (service) => service.trigger(name, overlap ? { overlap } : {})),
  }),
  defineMethod({
    name: 'cron.remove',
    description: 'Deletes a run-time job (a pending one-shot is terminated). Its past runs stay visible in Temporal until retention. Config jobs are removed from the config.',
    params: NameParams,
    result: z.object({ name: z.string(), kind: z.enum(['schedule', 'at']), removed: z.literal(true) }),
    errors: [...JOB_ERRORS, APP_ERRORS.cronJobInConfig.code],
    example: { name: 'weekday-report' },
    handler: ({ name }, { services }) => cron(services, 'name', (service) => service.remove(name)),
  }),
  defineMethod({
    name: 'cron.runs',
    description:
      "A job's recent runs from Temporal visibility (eventually consistent), running ones first, then the latest closed: status, times, duration and the first 200 characters of the result.",
    params: z.strictObject({ name: CronJobName, limit: z.number().int().min(1).max(200).default(20) }),
    result: z.object({ runs: z.array(CronRunView) }),
    errors: [APP_ERRORS.temporalUnavailable.code],
    example: { name: 'weekday-report', limit: 10 },
    handler: async ({ name, limit }, { services }) => ({ runs: await cron(services, 'name', (service) => service.runs(name, { limit })) }),
  }),
] as const;
