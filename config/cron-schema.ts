// The `cron` section of the config schema: `cron.<name>` jobs, each the Temporal Schedule
// `cron:<name>` (docs/cron.md). Kept apart from schema.ts only for size; schema.ts uses it
// as `cron: z.record(Identifier, CronJobSchema)` and checks agents and delivery across
// sections with `checkCronJobs`. The `cron.add` RPC method validates with the same schema.
//
// Cron expressions, time zones and times are checked here, so that a wrong one is a config
// error (exit 78) that names its path before anything is created in Temporal.
import { z } from 'zod';
import { parseDuration, DURATION_PATTERN } from './duration.js';
import { targetProblem } from '../cron/spec.js';
import { OVERLAP_MODES } from '../cron/types.js';
import { atProblem, cronExpressionProblem, intervalProblem, isoTimeProblem, timezoneProblem } from '../cron/validate.js';

const Duration = z
  .string()
  .regex(DURATION_PATTERN, { message: 'expected a duration such as 500ms, 30s, 10m, 2h or 1d' })
  .describe('A duration: a number followed by ms, s, m, h or d.');

/** A job's name: the schedule is `cron:<name>`. */
export const CronJobName = z
  .string()
  .max(200)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, { message: 'expected letters, digits, "_", "-" or "." (not starting with a symbol)' });

/** A string checked by one of cron/validate.ts's functions. */
const checked = (schema: z.ZodString, problem: (value: string) => string | undefined) =>
  schema.superRefine((value, ctx) => {
    const found = problem(value);
    if (found) ctx.addIssue({ code: 'custom', message: found });
  });

const IsoTime = checked(z.string(), isoTimeProblem);

export const CronWhenSchema = z
  .strictObject({
    cron: checked(z.string(), cronExpressionProblem)
      .optional()
      .describe(
        'A cron expression as Temporal reads it: 5 fields (minute hour day-of-month month day-of-week), 6 (… year) or 7 (second … year); names such as MON-FRI and JAN; @hourly, @daily, @weekly, @monthly, @yearly. Day of month and day of week must both match (no "or" rule).',
      ),
    timezone: checked(z.string(), timezoneProblem).optional().describe('IANA time zone of `cron` (e.g. Europe/Paris). Default UTC.'),
    every: Duration.optional().describe('Run every so often (whole seconds, at least 1s), counted from the Unix epoch: `every: 1h` fires on the hour.'),
    offset: Duration.optional().describe('Shift of an `every` interval: `every: 1h, offset: 15m` fires at xx:15.'),
    at: checked(z.string(), atProblem)
      .optional()
      .describe(
        'One run: an ISO 8601 time with an offset (2030-01-31T09:00:00Z), or a delay such as 20m counted from when the job is created (in config: from the first start that creates it).',
      ),
    jitter: Duration.optional().describe('Delay each run by a random amount up to this, to spread load.'),
    startAt: IsoTime.optional().describe('No runs before this ISO 8601 time.'),
    endAt: IsoTime.optional().describe('No runs after this ISO 8601 time.'),
  })
  .superRefine((when, ctx) => {
    const kinds = (['cron', 'every', 'at'] as const).filter((key) => when[key] !== undefined);
    if (kinds.length !== 1) {
      ctx.addIssue({ code: 'custom', message: kinds.length === 0 ? 'expected one of cron, every or at' : `expected only one of cron, every or at, got ${kinds.join(' and ')}` });
      return;
    }
    const refuse = (key: keyof typeof when, message: string) => {
      if (when[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message });
    };
    if (when.cron === undefined) refuse('timezone', 'only applies to cron');
    if (when.every === undefined) refuse('offset', 'only applies to every');
    if (when.at !== undefined) {
      for (const key of ['jitter', 'startAt', 'endAt'] as const) refuse(key, 'does not apply to a one-shot (at)');
    }
    if (when.every !== undefined && DURATION_PATTERN.test(when.every)) {
      const problem = intervalProblem(when.every);
      if (problem) ctx.addIssue({ code: 'custom', path: ['every'], message: problem });
      if (when.offset !== undefined && DURATION_PATTERN.test(when.offset)) {
        const offset = parseDuration(when.offset);
        if (offset >= parseDuration(when.every)) ctx.addIssue({ code: 'custom', path: ['offset'], message: 'must be shorter than every' });
        else if (offset % 1000 !== 0) ctx.addIssue({ code: 'custom', path: ['offset'], message: 'must be a whole number of seconds' });
      }
    }
    if (when.startAt !== undefined && when.endAt !== undefined && Date.parse(when.endAt) <= Date.parse(when.startAt)) {
      ctx.addIssue({ code: 'custom', path: ['endAt'], message: 'must be after startAt' });
    }
  })
  .describe('When the job runs: exactly one of cron (with timezone), every (with offset) or at; jitter, startAt and endAt bound cron and every.');

export const CronDeliverSchema = z
  .strictObject({
    url: z
      .url({ protocol: /^https?$/, message: 'expected an http(s) URL' })
      .optional()
      .describe('POST each run\'s result here, signed with Standard Webhooks headers using gateway.deliverSecret (required then).'),
    channel: z
      .unknown()
      .optional()
      .describe('Reserved for channel adapters (a later release): not active yet, and refused for now.'),
  })
  .superRefine((deliver, ctx) => {
    if (deliver.channel !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['channel'], message: 'is reserved for channel adapters and not active yet; use url, or subscribe to the job\'s session events' });
    }
  })
  .describe("Where a run's result goes besides the events of the job's session (which subscribers always get).");

export const CronJobSchema = z
  .strictObject({
    description: z.string().max(1000).optional().describe('What the job is for (shown by `switchyard cron get`).'),
    schedule: CronWhenSchema,
    agent: CronJobName.optional().describe('The agent that runs the job. Default: the agent of `session` when it is a full key, else main.'),
    session: z
      .string()
      .min(1)
      .max(512)
      .optional()
      .describe(
        'Unset: an isolated run in the session agent:<agent>:cron:<name>, reset before each run so every run starts a fresh Claude session. A scope (main, reports) or a full session key (agent:main:main): the prompt is sent into that session, which keeps its context.',
      ),
    prompt: z.string().min(1).max(100_000).describe('The message each run sends.'),
    overlap: z
      .enum(OVERLAP_MODES)
      .default('skip')
      .describe(
        'When a run is due while the previous one still runs: skip (default), bufferOne (run once after it), bufferAll (run each, in turn), cancelOther (cancel it, then run), terminateOther (terminate it, then run), allowAll (run at once, in parallel).',
      ),
    catchupWindow: Duration.default('1h').describe(
      'After Temporal was down (or unreachable), runs missed less than this long ago are still taken (one each, subject to overlap); older ones are dropped. At least 10s.',
    ),
    pauseOnFailure: z.boolean().default(false).describe('Pause the schedule when a run fails or times out (resume with `switchyard cron resume`).'),
    paused: z
      .boolean()
      .default(false)
      .describe('Create the schedule paused. Applied when the job is created or this value changes; pause/resume from the CLI or UI are kept otherwise.'),
    timeout: Duration.default('15m').describe("Longest a run waits for its turn's outcome (queueing included); then its turn is cancelled and the run fails."),
    deliver: CronDeliverSchema.optional(),
  })
  .superRefine((job, ctx) => {
    const target = targetProblem(job);
    if (target) ctx.addIssue({ code: 'custom', path: ['session'], message: target });
    if (DURATION_PATTERN.test(job.catchupWindow) && parseDuration(job.catchupWindow) < 10_000) {
      ctx.addIssue({ code: 'custom', path: ['catchupWindow'], message: 'must be at least 10s (Temporal\'s minimum)' });
    }
    if (DURATION_PATTERN.test(job.timeout) && parseDuration(job.timeout) < 1000) {
      ctx.addIssue({ code: 'custom', path: ['timeout'], message: 'must be at least 1s' });
    }
  })
  .describe('A scheduled job: when (schedule), what (prompt, agent, session), and how (overlap, catchupWindow, timeout, deliver).');

export type CronJobConfig = z.infer<typeof CronJobSchema>;

/** Checks across sections: each job's agent is configured; a delivery URL has a secret to sign with. */
export function checkCronJobs(
  config: { agents: Record<string, unknown>; gateway: { deliverSecret?: string | undefined }; cron: Record<string, CronJobConfig> },
  ctx: z.RefinementCtx,
): void {
  const agents = new Set(['main', ...Object.keys(config.agents)]);
  for (const [name, job] of Object.entries(config.cron)) {
    const fromKey = job.session?.startsWith('agent:') ? /^agent:([^:]+):/.exec(job.session)?.[1] : undefined;
    const agent = job.agent ?? fromKey ?? 'main';
    if (!agents.has(agent)) {
      ctx.addIssue({ code: 'custom', path: ['cron', name, job.agent !== undefined ? 'agent' : 'session'], message: `unknown agent "${agent}" (configured: ${[...agents].join(', ')})` });
    }
    if (job.deliver?.url !== undefined && !config.gateway.deliverSecret) {
      ctx.addIssue({ code: 'custom', path: ['cron', name, 'deliver', 'url'], message: 'needs gateway.deliverSecret to sign the deliveries' });
    }
  }
}

const jobFields = CronJobSchema.shape;

/** The fields `cron.update` may change, none filled by default: unset ones keep their values. */
export const CronJobPatchSchema = z
  .strictObject({
    description: jobFields.description,
    schedule: jobFields.schedule.optional().describe('Replaces the whole schedule (one of cron, every or at, with its modifiers).'),
    agent: jobFields.agent,
    session: jobFields.session,
    prompt: jobFields.prompt.optional().describe('The message each run sends.'),
    overlap: z.enum(OVERLAP_MODES).optional().describe('skip, bufferOne, bufferAll, cancelOther, terminateOther or allowAll.'),
    catchupWindow: Duration.optional().describe('How far back missed runs are caught up after an outage (at least 10s).'),
    pauseOnFailure: z.boolean().optional().describe('Pause the schedule when a run fails or times out.'),
    paused: z.boolean().optional().describe('Pause (true) or resume (false) the job as part of the update.'),
    timeout: Duration.optional().describe("Longest a run waits for its turn's outcome."),
    deliver: jobFields.deliver,
  })
  .describe('Fields to change; the others keep their values. The result is checked as a whole job.');
