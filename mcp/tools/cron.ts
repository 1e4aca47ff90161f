// cron_*: scheduled jobs, each a Temporal Schedule `cron:<name>` that sends a prompt to an agent.
import { methodTool } from '../tool.js';

export const cronTools = [
  methodTool('cron.list', {
    name: 'cron_list',
    title: 'List scheduled jobs',
    description:
      'Lists the scheduled jobs: for each, its name, definition (schedule, prompt, agent, session), whether it is paused, and its next run times. A job added a moment ago may not be listed yet.',
    readOnly: true,
  }),
  methodTool('cron.add', {
    name: 'cron_add',
    title: 'Add a scheduled job',
    description:
      'Adds a job that sends `job.prompt` to an agent on a schedule, kept by the gateway until someone removes it. `job.schedule` takes exactly one of: `cron` (a 5-field cron expression, with an IANA `timezone`, default UTC), `every` (a duration such as 30m or 1d, with an optional `offset`), or `at` (one run: an ISO 8601 time with an offset, or a delay such as 20m). Without `job.session`, each run is a fresh conversation in `agent:<agent>:cron:<name>`; with a scope or a full session key, runs continue that conversation. Fails if a job of that name exists.',
    readOnly: false,
  }),
  methodTool('cron.pause', {
    name: 'cron_pause',
    title: 'Pause a scheduled job',
    description: 'Pauses a job\'s schedule: no runs until it is resumed. `note` says why (shown to people looking at the job).',
    readOnly: false,
  }),
  methodTool('cron.resume', {
    name: 'cron_resume',
    title: 'Resume a scheduled job',
    description: 'Resumes a paused job; runs missed while it was paused are not made up.',
    readOnly: false,
  }),
  methodTool('cron.trigger', {
    name: 'cron_trigger',
    title: 'Run a scheduled job now',
    description:
      'Runs a job once now, even a paused one, besides its schedule (a pending one-shot runs now instead of at its time). The run is a turn of the job\'s session: follow it with sessions_history.',
    readOnly: false,
  }),
];
