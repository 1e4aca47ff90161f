// `switchyard cron add|list|get|update|pause|resume|trigger|remove|runs`: cron jobs of a
// running gateway, through its JSON-RPC API (the cron.* methods, docs/cron.md). Output is
// for people (tables, YAML) or, with --json, one line of JSON for scripts.
//
// Exit status: 0 done, 1 the gateway answered with an error (unknown job, invalid
// definition, ...), 2 bad usage, 3 no connection, 78 invalid config.
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import YAML from 'yaml';
import type { RpcParams, RpcResult } from '../../client/rpc-client.js';
import { OVERLAP_MODES } from '../../cron/types.js';
import { rpcCommandGroup, type RpcCommandIO } from '../rpc-command-group.js';

type JobView = RpcResult<'cron.get'>;
type RunView = RpcResult<'cron.runs'>['runs'][number];

interface JobFlags {
  cron?: string;
  tz?: string;
  every?: string;
  offset?: string;
  at?: string;
  jitter?: string;
  startAt?: string;
  endAt?: string;
  prompt?: string;
  promptFile?: string;
  agent?: string;
  session?: string;
  overlap?: string;
  catchupWindow?: string;
  timeout?: string;
  pauseOnFailure?: boolean;
  paused?: boolean;
  deliverUrl?: string;
  description?: string;
  job?: string;
}

class UsageError extends Error {}

export function cronCommand(io: RpcCommandIO = {}): Command {
  const { group: cron, sub, run } = rpcCommandGroup(
    'cron',
    'manage cron jobs (Temporal Schedules cron:<name>) of a running gateway; see docs/cron.md',
    io,
    issuesText,
  );

  addJobOptions(sub('add', 'add a job: when (--cron, --every or --at), what (--prompt) and how').argument('<name>', 'the job; its schedule is cron:<name>')).action(
    async (name: string, _options: unknown, self: Command) => {
      await run(self, 'cron.add', () => ({ name, job: jobFromFlags(self.opts<JobFlags>(), true) as RpcParams<'cron.add'>['job'] }), showJob);
    },
  );

  sub('list', 'list the jobs: schedules (config and run-time) and pending one-shots').action(async (_options: unknown, self: Command) => {
    await run(self, 'cron.list', () => ({}), (result) => jobTable(result.jobs));
  });

  sub('get', "a job's definition, state, next runs and counters")
    .argument('<name>')
    .action(async (name: string, _options: unknown, self: Command) => {
      await run(self, 'cron.get', () => ({ name }), showJob);
    });

  addJobOptions(sub('update', 'change a run-time job: the given fields replace its own (a new --cron/--every/--at replaces the whole schedule)').argument('<name>')).action(
    async (name: string, _options: unknown, self: Command) => {
      await run(self, 'cron.update', () => ({ name, patch: jobFromFlags(self.opts<JobFlags>(), false) as RpcParams<'cron.update'>['patch'] }), showJob);
    },
  );

  sub('pause', 'pause a schedule')
    .argument('<name>')
    .option('--note <text>', 'why (shown by get, the Temporal UI and temporal schedule describe)')
    .action(async (name: string, options: { note?: string }, self: Command) => {
      await run(self, 'cron.pause', () => ({ name, ...(options.note !== undefined ? { note: options.note } : {}) }), showJob);
    });

  sub('resume', 'resume a paused schedule')
    .argument('<name>')
    .option('--note <text>', 'why')
    .action(async (name: string, options: { note?: string }, self: Command) => {
      await run(self, 'cron.resume', () => ({ name, ...(options.note !== undefined ? { note: options.note } : {}) }), showJob);
    });

  sub('trigger', 'run a job now (a pending one-shot: now instead of at its time)')
    .argument('<name>')
    .addOption(new Option('--overlap <mode>', 'overlap policy for this run (default allowAll)').choices(OVERLAP_MODES))
    .action(async (name: string, options: { overlap?: (typeof OVERLAP_MODES)[number] }, self: Command) => {
      await run(self, 'cron.trigger', () => ({ name, ...(options.overlap ? { overlap: options.overlap } : {}) }), (result) => `triggered ${result.name} at ${result.triggeredAt}\n`);
    });

  sub('remove', 'delete a run-time job (config jobs are removed from the config)')
    .argument('<name>')
    .action(async (name: string, _options: unknown, self: Command) => {
      await run(self, 'cron.remove', () => ({ name }), (result) => `removed ${result.name}\n`);
    });

  sub('runs', "a job's recent runs: status, start, duration and the start of the result")
    .argument('<name>')
    .option('--limit <n>', 'how many', '20')
    .action(async (name: string, options: { limit: string }, self: Command) => {
      await run(
        self,
        'cron.runs',
        () => {
          const limit = Number(options.limit);
          if (!Number.isInteger(limit) || limit < 1) throw new UsageError('--limit must be a positive integer');
          return { name, limit };
        },
        (result) => runTable(result.runs),
      );
    });

  return cron;
}

function addJobOptions(command: Command): Command {
  return command
    .option('--cron <expression>', 'a cron expression as Temporal reads it, e.g. "0 9 * * MON-FRI"')
    .option('--tz <zone>', 'IANA time zone of --cron (default UTC)')
    .option('--every <duration>', 'an interval, e.g. 2s, 15m, 1d')
    .option('--offset <duration>', 'shift of --every, e.g. --every 1h --offset 15m')
    .option('--at <time>', 'one run: an ISO time with an offset, or a delay such as 20m')
    .option('--jitter <duration>', 'delay each run by up to this')
    .option('--start-at <time>', 'no runs before this ISO time')
    .option('--end-at <time>', 'no runs after this ISO time')
    .option('--prompt <text>', 'the message each run sends')
    .option('--prompt-file <path>', 'read the prompt from a file ("-": stdin)')
    .option('--agent <id>', 'the agent (default main)')
    .option('--session <scope-or-key>', 'send into this session (a scope or agent:<id>:<scope>) instead of an isolated one')
    .addOption(new Option('--overlap <mode>', 'when a run is due while one runs (default skip)').choices(OVERLAP_MODES))
    .option('--catchup-window <duration>', 'how far back missed runs are caught up after an outage (default 1h)')
    .option('--timeout <duration>', "longest a run waits for its turn's outcome (default 15m)")
    .option('--pause-on-failure', 'pause the schedule when a run fails')
    .option('--no-pause-on-failure', 'do not pause on failure')
    .option('--paused', 'create (or set) it paused')
    .option('--no-paused', 'unpause as part of an update')
    .option('--deliver-url <url>', 'POST each result there, signed (needs gateway.deliverSecret)')
    .option('--description <text>', 'what the job is for')
    .option('--job <json>', 'the whole definition (or patch) as JSON; the flags above override its fields');
}

/** The job (add) or patch (update) the flags describe. */
export function jobFromFlags(flags: JobFlags, adding: boolean): Record<string, unknown> {
  let base: Record<string, unknown> = {};
  if (flags.job !== undefined) {
    try {
      base = JSON.parse(flags.job) as Record<string, unknown>;
    } catch (error) {
      throw new UsageError(`--job is not valid JSON: ${(error as Error).message}`);
    }
    if (!base || typeof base !== 'object' || Array.isArray(base)) throw new UsageError('--job must be a JSON object');
  }
  const when = ['cron', 'every', 'at'].filter((key) => flags[key as keyof JobFlags] !== undefined);
  if (when.length > 1) throw new UsageError(`give one of --cron, --every or --at, not ${when.map((key) => `--${key}`).join(' and ')}`);
  const modifiers = { timezone: flags.tz, offset: flags.offset, jitter: flags.jitter, startAt: flags.startAt, endAt: flags.endAt };
  const hasModifier = Object.values(modifiers).some((value) => value !== undefined);
  if (when.length === 1 || hasModifier) {
    const schedule: Record<string, unknown> = when.length === 1 ? {} : { ...((base.schedule as Record<string, unknown> | undefined) ?? {}) };
    if (when.length === 0 && base.schedule === undefined) throw new UsageError('--tz, --offset, --jitter, --start-at and --end-at go with --cron, --every or --at');
    if (flags.cron !== undefined) schedule.cron = flags.cron;
    if (flags.every !== undefined) schedule.every = flags.every;
    if (flags.at !== undefined) schedule.at = flags.at;
    for (const [key, value] of Object.entries(modifiers)) if (value !== undefined) schedule[key] = value;
    base.schedule = schedule;
  }
  if (flags.prompt !== undefined && flags.promptFile !== undefined) throw new UsageError('give --prompt or --prompt-file, not both');
  const prompt = flags.promptFile !== undefined ? readFileSync(flags.promptFile === '-' ? 0 : flags.promptFile, 'utf8').trimEnd() : flags.prompt;
  const fields: Record<string, unknown> = {
    prompt,
    agent: flags.agent,
    session: flags.session,
    overlap: flags.overlap,
    catchupWindow: flags.catchupWindow,
    timeout: flags.timeout,
    pauseOnFailure: flags.pauseOnFailure,
    paused: flags.paused,
    description: flags.description,
  };
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) base[key] = value;
  if (flags.deliverUrl !== undefined) base.deliver = { ...((base.deliver as Record<string, unknown> | undefined) ?? {}), url: flags.deliverUrl };
  if (adding) {
    if (base.schedule === undefined) throw new UsageError('say when: --cron <expression>, --every <duration> or --at <time>');
    if (base.prompt === undefined) throw new UsageError('say what: --prompt <text> or --prompt-file <path>');
  } else if (Object.keys(base).length === 0) {
    throw new UsageError('nothing to change: give the fields to update (see --help)');
  }
  return base;
}

function issuesText(data: unknown): string {
  const issues = (data as { issues?: { path: unknown[]; message: string }[] } | undefined)?.issues;
  if (!issues?.length) return '';
  return issues.map((issue) => `\n  ${issue.path.join('.') || '(params)'}: ${issue.message}`).join('');
}

export function whenText(job: JobView['job']): string {
  const when = job.schedule;
  if (when.cron !== undefined) return `cron "${when.cron}"${when.timezone ? ` ${when.timezone}` : ''}`;
  if (when.every !== undefined) return `every ${when.every}${when.offset ? ` +${when.offset}` : ''}`;
  return `at ${when.at}`;
}

function showJob(view: JobView): string {
  return YAML.stringify(view, { lineWidth: 0 });
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join('  ').trimEnd()).join('\n') + '\n';
}

function jobTable(jobs: JobView[]): string {
  if (jobs.length === 0) return 'no cron jobs\n';
  return table([
    ['NAME', 'SOURCE', 'STATE', 'WHEN', 'NEXT RUN', 'SESSION'],
    ...jobs.map((job) => [job.name, job.source, job.state, whenText(job.job), job.nextRunTimes[0] ?? '-', job.isolated ? `${job.sessionKey} (isolated)` : job.sessionKey]),
  ]);
}

function runTable(runs: RunView[]): string {
  if (runs.length === 0) return 'no runs yet\n';
  return table([
    ['STARTED', 'STATUS', 'DURATION', 'RESULT'],
    ...runs.map((run) => [
      run.startedAt,
      run.outcome && run.outcome !== run.status ? `${run.status} (${run.outcome})` : run.status,
      run.durationMs !== undefined ? `${(run.durationMs / 1000).toFixed(1)}s` : '-',
      (run.result ?? run.reason ?? '').replace(/\s+/g, ' ').slice(0, 80),
    ]),
  ]);
}
