// channels.*: the channel adapters this API process supervises (channels/manager.ts,
// docs/channels.md). Operator only: an adapter's token cannot stop or restart adapters.
import { z } from 'zod';
import { ChannelName } from '../../../config/channel-schema.js';
import { ChannelNotFoundError, type ChannelManager } from '../../../channels/manager.js';
import type { RpcServices } from '../context.js';
import { defineMethod } from '../method.js';
import { APP_ERRORS, RpcError } from '../protocol.js';

const ChannelView = z.object({
  name: z.string(),
  state: z.enum(['running', 'stopped', 'backoff', 'crashed']).describe('backoff: waiting to restart after an exit; crashed: not restarted any more (policy, crash-loop breaker, or it cannot be spawned).'),
  pid: z.number().int().nullable().describe('While running.'),
  startedAt: z.number().nullable().describe('While running: when the current process started, milliseconds since the epoch.'),
  uptimeMs: z.number().nullable().describe('While running.'),
  restarts: z.number().int().describe('Restarts by the supervisor since the channel was last started with the gateway or by hand.'),
  lastExit: z
    .object({ code: z.number().int().nullable(), signal: z.string().nullable(), at: z.number() })
    .nullable()
    .describe('How the previous process ended: exit code, or the signal that killed it.'),
  required: z.boolean().describe('Counts toward GET /readyz.'),
  autostart: z.boolean(),
  reason: z.string().nullable().describe('Why it is crashed, backing off or stopped by itself.'),
  nextRestartAt: z.number().nullable().describe('In backoff: when the next attempt starts.'),
  adapter: z.string().describe('The built-in adapter or the command.'),
  logFile: z.string().describe('stdout and stderr, rotated to <file>.1, <file>.2, ...'),
});

const NameParams = z.strictObject({ name: ChannelName.describe('The channel: a key of `channels` in the config.') });

const CHANNEL_ERRORS = [APP_ERRORS.channelNotFound.code];

/** Runs a ChannelManager call, answering an unknown name with -32021. */
async function onChannels<T>(services: RpcServices, name: string | undefined, call: (manager: ChannelManager) => T | Promise<T>): Promise<T> {
  const manager = services.channels;
  if (!manager) throw RpcError.app('channelNotFound', { name, channels: [] });
  try {
    return await call(manager);
  } catch (error) {
    if (error instanceof ChannelNotFoundError) throw RpcError.app('channelNotFound', { name: error.channel, channels: manager.names() });
    throw error;
  }
}

export const channelMethods = [
  defineMethod({
    name: 'channels.list',
    description: 'Every channel adapter of the config with its state (running, stopped, backoff, crashed), pid, uptime, restarts and last exit.',
    params: z.strictObject({}),
    result: z.object({ channels: z.array(ChannelView) }),
    example: {},
    handler: (_params, { services }) => ({ channels: services.channels?.list() ?? [] }),
  }),
  defineMethod({
    name: 'channels.start',
    description: 'Starts an adapter that is stopped or crashed (the restart counters and the crash-loop breaker start over); no-op while it runs or backs off.',
    params: NameParams,
    result: ChannelView,
    errors: CHANNEL_ERRORS,
    example: { name: 'terminal' },
    handler: ({ name }, { services }) => onChannels(services, name, (manager) => manager.startChannel(name)),
  }),
  defineMethod({
    name: 'channels.stop',
    description: "Stops an adapter: SIGTERM to its process group, the grace period (`channels.<name>.stopGrace`, or `graceMs`), then SIGKILL. It stays stopped until started again.",
    params: NameParams.extend({
      graceMs: z.number().int().min(0).max(600_000).optional().describe('Overrides the configured grace period.'),
    }),
    result: ChannelView,
    errors: CHANNEL_ERRORS,
    example: { name: 'terminal' },
    handler: ({ name, graceMs }, { services }) => onChannels(services, name, (manager) => manager.stopChannel(name, graceMs)),
  }),
  defineMethod({
    name: 'channels.restart',
    description: 'Stops the adapter (as channels.stop) and starts it again; answers once the new process is spawned.',
    params: NameParams,
    result: ChannelView,
    errors: CHANNEL_ERRORS,
    example: { name: 'terminal' },
    handler: ({ name }, { services }) => onChannels(services, name, (manager) => manager.restartChannel(name)),
  }),
  defineMethod({
    name: 'channels.logs',
    description: "The adapter's recent stdout and stderr lines from memory (`channels.<name>.logs.lines` are kept), oldest first, and the log file that holds more.",
    params: NameParams.extend({
      lines: z.number().int().min(1).max(100_000).default(100).describe('At most this many of the newest lines.'),
      stream: z.enum(['stdout', 'stderr']).optional().describe('Only this stream.'),
    }),
    result: z.object({
      name: z.string(),
      logFile: z.string(),
      lines: z.array(z.object({ stream: z.enum(['stdout', 'stderr']), line: z.string(), ts: z.number() })),
    }),
    errors: CHANNEL_ERRORS,
    example: { name: 'terminal', lines: 50 },
    handler: ({ name, lines, stream }, { services }) =>
      onChannels(services, name, (manager) => ({ name, ...manager.logs(name, { lines, ...(stream ? { stream } : {}) }) })),
  }),
] as const;
