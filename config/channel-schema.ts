// The `channels` section of the config schema: `channels.<name>`, one channel adapter each,
// a child process of the API supervised by channels/manager.ts (docs/channels.md). Kept apart
// from schema.ts for size, like cron-schema.ts; schema.ts uses it as
// `channels: z.record(Identifier, ChannelSchema)`.
//
// `${VAR}` in any string here (command, args, env values, cwd) is interpolated when the file
// is loaded, like everywhere else in the config; env values whose key looks secret
// (`SLACK_TOKEN`, `API_KEY`) are redacted by config/redact.ts.
import { z } from 'zod';
import { DURATION_PATTERN, parseDuration } from './duration.js';

const Duration = z
  .string()
  .regex(DURATION_PATTERN, { message: 'expected a duration such as 500ms, 30s, 10m, 2h or 1d' })
  .describe('A duration: a number followed by ms, s, m, h or d.');

/** A channel's name: its logs are `logs/channels/<name>.log`, its sessions `agent:<agent>:<name>:<peer>`. */
export const ChannelName = z
  .string()
  .max(100)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]*$/, { message: 'expected letters, digits, "_" or "-" (not starting with a symbol)' });

/** The adapters shipped in adapters/, run with this Node (and its TypeScript loader). */
export const BUILTIN_ADAPTERS = ['terminal-chat', 'outbound-webhook'] as const;
export type BuiltinAdapter = (typeof BUILTIN_ADAPTERS)[number];

export const RESTART_POLICIES = ['always', 'on-failure', 'never'] as const;

export const ChannelRestartSchema = z
  .strictObject({
    policy: z
      .enum(RESTART_POLICIES)
      .default('on-failure')
      .describe('always: restart after any exit; on-failure: after a non-zero exit or a signal; never: leave it stopped (crashed when it failed).'),
    initialDelay: Duration.default('1s').describe('Backoff before the first restart; multiplied by `factor` for each further restart in a row.'),
    maxDelay: Duration.default('1m').describe('Longest backoff.'),
    factor: z.number().min(1).max(10).default(2).describe('Backoff multiplier per consecutive restart.'),
    jitter: z
      .number()
      .min(0)
      .max(1)
      .default(0.2)
      .describe('Random spread of each backoff delay, as a fraction: 0.2 waits between 80% and 120% of it.'),
    resetAfter: Duration.default('1m').describe('An adapter that ran this long before exiting starts the backoff over.'),
    maxPerHour: z
      .number()
      .int()
      .min(0)
      .max(10_000)
      .default(10)
      .describe(
        'Crash-loop breaker: once this many restarts happened within the last hour, the next exit is not restarted; the channel is `crashed`, says why (channels.list, the log) and waits for `switchyard channels start`.',
      ),
  })
  .superRefine((restart, ctx) => {
    if (DURATION_PATTERN.test(restart.initialDelay) && DURATION_PATTERN.test(restart.maxDelay) && parseDuration(restart.maxDelay) < parseDuration(restart.initialDelay)) {
      ctx.addIssue({ code: 'custom', path: ['maxDelay'], message: 'must not be shorter than initialDelay' });
    }
  })
  .describe('When and how an adapter that exited is started again.');

export const ChannelSchema = z
  .strictObject({
    adapter: z
      .enum(BUILTIN_ADAPTERS)
      .optional()
      .describe('A built-in adapter (terminal-chat, outbound-webhook) run with the gateway\'s own Node; `args` are appended. Give this or `command`.'),
    command: z.string().min(1).optional().describe('The adapter program: a path, or a name looked up on PATH. Give this or `adapter`.'),
    args: z.array(z.string()).default([]).describe('Arguments of the command.'),
    env: z
      .record(z.string(), z.string())
      .default({})
      .describe(
        "Extra environment (use ${VAR} for secrets). The adapter also gets the gateway's environment minus SWITCHYARD_* variables, then SWITCHYARD_URL, SWITCHYARD_TOKEN (scoped to adapters), SWITCHYARD_CHANNEL, SWITCHYARD_AGENT and SWITCHYARD_CHANNEL_STATE.",
      ),
    cwd: z.string().min(1).optional().describe('Working directory, relative to the directory the gateway was started in. Default that directory.'),
    agent: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, { message: 'expected an agent id' })
      .default('main')
      .describe('The agent whose sessions the adapter talks to (passed as SWITCHYARD_AGENT).'),
    stdin: z
      .string()
      .min(1)
      .optional()
      .describe('A file or FIFO (mkfifo) opened as the adapter\'s standard input, e.g. for terminal-chat under the supervisor. Default: none (/dev/null).'),
    autostart: z.boolean().default(true).describe('Start with the gateway. Otherwise only `switchyard channels start <name>` starts it.'),
    required: z.boolean().default(false).describe('GET /readyz answers 503 while this adapter is not running.'),
    restart: ChannelRestartSchema.prefault({}),
    stopGrace: Duration.default('5s').describe('On stop: SIGTERM to the adapter\'s process group, this long to exit, then SIGKILL.'),
    logs: z
      .strictObject({
        maxBytes: z.number().int().min(1024).default(10_485_760).describe('Size at which logs/channels/<name>.log is rotated to <name>.log.1.'),
        keep: z.number().int().min(1).max(100).default(5).describe('Rotated files kept (<name>.log.1 … <name>.log.<keep>).'),
        lines: z.number().int().min(1).max(100_000).default(1000).describe('Recent output lines kept in memory for `channels.logs`.'),
      })
      .prefault({})
      .describe('stdout and stderr of the adapter: a rotated file under $SWITCHYARD_HOME/logs/channels and a ring buffer in memory.'),
  })
  .superRefine((channel, ctx) => {
    const given = [channel.adapter, channel.command].filter((value) => value !== undefined).length;
    if (given !== 1) {
      ctx.addIssue({
        code: 'custom',
        path: given === 0 ? ['command'] : ['adapter'],
        message: given === 0 ? 'missing: give command (a program) or adapter (terminal-chat, outbound-webhook)' : 'give adapter or command, not both',
      });
    }
  })
  .describe('A channel adapter: a program the gateway runs, restarts and stops, that brings messages in with sessions.send and delivers replies (docs/channels.md).');

export type ChannelConfig = z.infer<typeof ChannelSchema>;
export type ChannelRestartConfig = z.infer<typeof ChannelRestartSchema>;

export const ChannelsSchema = z
  .record(ChannelName, ChannelSchema)
  .default({})
  .describe('Channel adapters by name: child processes of the API, supervised and restarted (docs/channels.md).');

/** Checks across sections: each channel's agent is configured. */
export function checkChannelAgents(config: { agents: Record<string, unknown>; channels: Record<string, ChannelConfig> }, ctx: z.RefinementCtx): void {
  const agents = new Set(['main', ...Object.keys(config.agents)]);
  for (const [name, channel] of Object.entries(config.channels)) {
    if (!agents.has(channel.agent)) {
      ctx.addIssue({ code: 'custom', path: ['channels', name, 'agent'], message: `unknown agent "${channel.agent}" (configured: ${[...agents].join(', ')})` });
    }
  }
}
