// `switchyard status`: one screen about a running gateway, from its JSON-RPC API: health,
// Temporal, the worker, sessions by state, schedules, channels. `--json` for scripts.
//
// Exit status: 0 the gateway is ready, 1 it answers but is not ready (Temporal unreachable,
// no worker polling, a required channel down), 3 no connection, 78 invalid config.
import { Command } from 'commander';
import { z } from 'zod';
import { RpcClient, RpcConnectError, RpcResponseError, type RpcResult } from '../../client/rpc-client.js';
import { CALL_EXIT, rpcTarget } from './call.js';
import { addConfigFlagOptions } from './config.js';

export const STATUS_EXIT = { ready: 0, notReady: 1, connection: CALL_EXIT.connection } as const;

/** sessions.list's largest page: beyond it the counts say "at least". */
const SESSION_SAMPLE = 200;
const METHOD_NOT_FOUND = -32601;

// channels.list comes from the channel supervisor; only the fields shown here are relied on.
const ChannelView = z.looseObject({
  name: z.string(),
  state: z.string(),
  pid: z.number().int().nullish(),
  restarts: z.number().int().nullish(),
});
const ChannelsAnswer = z.union([z.array(ChannelView), z.looseObject({ channels: z.array(ChannelView) })]);
type Channel = z.infer<typeof ChannelView>;

type Part<T> = { ok: true; value: T } | { ok: false; error: string };

export interface StatusReport {
  url: string;
  gateway: RpcResult<'gateway.status'>;
  sessions: Part<{ total: number; byState: Record<string, number>; more: boolean }>;
  schedules: Part<{ total: number; byState: Record<string, number>; next?: { name: string; at: string } }>;
  channels: Part<Channel[]> | { ok: false; unsupported: true; error: string };
}

function errorText(error: unknown): string {
  if (error instanceof RpcResponseError) return `${error.message} (${error.code})`;
  return (error as Error).message;
}

async function part<T, R>(call: Promise<T>, shape: (value: T) => R): Promise<Part<R>> {
  try {
    return { ok: true, value: shape(await call) };
  } catch (error) {
    return { ok: false, error: errorText(error) };
  }
}

function countBy<T>(items: T[], key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return counts;
}

/** Asks the gateway everything `status` shows, over one connection, in parallel. */
export async function gatherStatus(client: RpcClient, url: string): Promise<StatusReport> {
  const [gateway, sessions, schedules, channels] = await Promise.all([
    client.call('gateway.status'),
    part(client.call('sessions.list', { limit: SESSION_SAMPLE }), (result) => ({
      total: result.sessions.length,
      byState: countBy(result.sessions, (session) => session.state ?? 'unknown'),
      more: result.more,
    })),
    part(client.call('cron.list'), (result) => {
      const next = result.jobs
        .flatMap((job) => (job.state === 'paused' || !job.nextRunTimes[0] ? [] : [{ name: job.name, at: job.nextRunTimes[0] }]))
        .sort((a, b) => a.at.localeCompare(b.at))[0];
      return { total: result.jobs.length, byState: countBy(result.jobs, (job) => job.state), ...(next ? { next } : {}) };
    }),
    // Typed loosely on purpose: gateways without the channel supervisor answer -32601.
    (client.call as (method: string, params?: unknown) => Promise<unknown>)('channels.list', {}).then(
      (answer): StatusReport['channels'] => {
        const parsed = ChannelsAnswer.safeParse(answer);
        if (!parsed.success) return { ok: false, error: 'unexpected answer to channels.list' };
        return { ok: true, value: Array.isArray(parsed.data) ? parsed.data : parsed.data.channels };
      },
      (error: unknown): StatusReport['channels'] =>
        error instanceof RpcResponseError && error.code === METHOD_NOT_FOUND
          ? { ok: false, unsupported: true, error: 'not supported by this gateway' }
          : { ok: false, error: errorText(error) },
    ),
  ]);
  return { url, gateway, sessions, schedules, channels };
}

export function formatDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  const days = Math.floor(seconds / 86_400);
  const hours = Math.floor((seconds % 86_400) / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  if (days > 0) return `${days}d ${hours}h`;
  if (hours > 0) return `${hours}h ${minutes}m`;
  if (minutes > 0) return `${minutes}m ${seconds % 60}s`;
  return `${seconds}s`;
}

const counts = (byState: Record<string, number>) =>
  Object.entries(byState)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([state, n]) => `${n} ${state}`)
    .join(', ');

const line = (label: string, text: string) => `${label.padEnd(10)}${text}`;
const mark = (ok: boolean) => (ok ? 'ok  ' : 'FAIL');

/** The one screen. */
export function renderStatus(report: StatusReport): string {
  const { gateway } = report;
  const lines = [
    line('gateway', `${report.url}  ${gateway.ready ? 'ready' : 'NOT READY'}  (v${gateway.version}, pid ${gateway.pid}, up ${formatDuration(gateway.uptimeMs)}, node ${gateway.node})`),
    line('temporal', `${mark(gateway.checks.temporal.ok)}  ${gateway.temporal.address}, namespace ${gateway.temporal.namespace}: ${gateway.checks.temporal.detail}`),
    line('worker', `${mark(gateway.checks.worker.ok)}  ${gateway.checks.worker.detail}`),
  ];
  const { sessions, schedules, channels } = report;
  if (sessions.ok) {
    const total = `${sessions.value.total}${sessions.value.more ? '+' : ''}`;
    lines.push(line('sessions', sessions.value.total === 0 ? 'none open' : `${total} open: ${counts(sessions.value.byState)}${sessions.value.more ? ` (first ${SESSION_SAMPLE} counted)` : ''}`));
  } else {
    lines.push(line('sessions', `unavailable: ${sessions.error}`));
  }
  if (schedules.ok) {
    const { total, byState, next } = schedules.value;
    lines.push(line('schedules', total === 0 ? 'none' : `${total}: ${counts(byState)}${next ? `; next ${next.name} at ${next.at}` : ''}`));
  } else {
    lines.push(line('schedules', `unavailable: ${schedules.error}`));
  }
  if (channels.ok) {
    const shown = channels.value.map(
      (channel) => `${channel.name} ${channel.state} (pid ${channel.pid ?? '-'}, ${channel.restarts ?? 0} restart${channel.restarts === 1 ? '' : 's'})`,
    );
    lines.push(line('channels', `${mark(gateway.checks.channels.ok)}  ${shown.length === 0 ? 'none configured' : shown.join('; ')}`));
  } else {
    lines.push(line('channels', `${'unsupported' in channels ? '' : `${mark(false)}  `}${channels.error}`));
  }
  lines.push(line('clients', `${gateway.rpc.connections} RPC connection${gateway.rpc.connections === 1 ? '' : 's'}, ${gateway.rpc.subscriptions} subscription${gateway.rpc.subscriptions === 1 ? '' : 's'}`));
  return `${lines.join('\n')}\n`;
}

export interface StatusCommandIO {
  writeOut?: (text: string) => void;
  writeErr?: (text: string) => void;
}

export function statusCommand(io: StatusCommandIO = {}): Command {
  const out = io.writeOut ?? ((text: string) => process.stdout.write(text));
  const err = io.writeErr ?? ((text: string) => process.stderr.write(text));
  const command = new Command('status')
    .description('one screen about the running gateway: health, Temporal, worker, sessions by state, schedules, channels')
    .option('--url <url>', "the gateway's WebSocket URL (default: ws://<gateway.bind>:<gateway.port>/rpc from the config)")
    .option('--token <token>', 'bearer token (default: $SWITCHYARD_TOKEN, else gateway.auth.token from the config)')
    .option('--json', 'print one line of JSON')
    .option('--timeout <ms>', 'give up after this long', '15000')
    .addHelpText('after', '\nExit status: 0 ready, 1 answering but not ready, 3 no connection, 78 invalid config.');
  addConfigFlagOptions(command);
  command.action(async (options: { url?: string; token?: string; json?: boolean; timeout: string }, self: Command) => {
    const { url, token } = rpcTarget(self, options);
    const timeoutMs = Number(options.timeout) > 0 ? Number(options.timeout) : 15_000;
    let client: RpcClient;
    try {
      client = await RpcClient.connect(url, { ...(token ? { token } : {}), connectTimeoutMs: timeoutMs });
    } catch (error) {
      const hint = error instanceof RpcConnectError && error.status === 401 ? ' (pass --token or set SWITCHYARD_TOKEN)' : '; is it running? (switchyard start, or switchyard service status)';
      if (options.json) out(`${JSON.stringify({ url, reachable: false, error: (error as Error).message })}\n`);
      else err(`gateway   not reachable at ${url}: ${(error as Error).message}${hint}\n`);
      process.exitCode = STATUS_EXIT.connection;
      return;
    }
    const timer = setTimeout(() => void client.close(1000, 'timeout'), timeoutMs);
    try {
      const report = await gatherStatus(client, url);
      out(options.json ? `${JSON.stringify({ reachable: true, ...report })}\n` : renderStatus(report));
      process.exitCode = report.gateway.ready ? STATUS_EXIT.ready : STATUS_EXIT.notReady;
    } catch (error) {
      err(`switchyard status: ${errorText(error)}\n`);
      process.exitCode = STATUS_EXIT.connection;
    } finally {
      clearTimeout(timer);
      await client.close().catch(() => undefined);
    }
  });
  return command;
}
