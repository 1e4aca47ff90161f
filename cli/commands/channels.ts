// `switchyard channels list|start|stop|restart|logs`: the channel adapters of a running
// gateway, through its JSON-RPC API (the channels.* methods, docs/channels.md). Output is for
// people (a table, lines) or, with --json, one line of JSON for scripts.
//
// Exit status: 0 done, 1 the gateway answered with an error (unknown channel, ...), 2 bad
// usage, 3 no connection, 78 invalid config.
import { Command, Option } from 'commander';
import type { RpcResult } from '../../client/rpc-client.js';
import { rpcCommandGroup, type RpcCommandIO } from '../rpc-command-group.js';

type ChannelView = RpcResult<'channels.start'>;

export function channelsCommand(io: RpcCommandIO = {}): Command {
  const { group: channels, sub, run } = rpcCommandGroup(
    'channels',
    'the channel adapters of a running gateway: state, start, stop, restart, logs; see docs/channels.md',
    io,
    dataText,
  );

  sub('list', 'every channel: state, pid, uptime, restarts, last exit').action(async (_options: unknown, self: Command) => {
    await run(self, 'channels.list', () => ({}), (result) => channelTable(result.channels));
  });

  sub('start', 'start a stopped or crashed channel (its restart counters start over)')
    .argument('<name>')
    .action(async (name: string, _options: unknown, self: Command) => {
      await run(self, 'channels.start', () => ({ name }), showChannel);
    });

  sub('stop', 'stop a channel: SIGTERM, the grace period, then SIGKILL')
    .argument('<name>')
    .option('--grace <ms>', 'grace period in milliseconds (default: the channel\'s stopGrace)')
    .action(async (name: string, options: { grace?: string }, self: Command) => {
      await run(
        self,
        'channels.stop',
        () => {
          if (options.grace === undefined) return { name };
          const graceMs = Number(options.grace);
          if (!Number.isInteger(graceMs) || graceMs < 0) throw new Error('--grace must be a whole number of milliseconds');
          return { name, graceMs };
        },
        showChannel,
      );
    });

  sub('restart', 'stop, then start a channel')
    .argument('<name>')
    .action(async (name: string, _options: unknown, self: Command) => {
      await run(self, 'channels.restart', () => ({ name }), showChannel);
    });

  sub('logs', "a channel's recent stdout and stderr (the file keeps more)")
    .argument('<name>')
    .option('-n, --lines <n>', 'how many of the newest lines', '100')
    .addOption(new Option('--stream <stream>', 'only stdout or stderr').choices(['stdout', 'stderr']))
    .action(async (name: string, options: { lines: string; stream?: 'stdout' | 'stderr' }, self: Command) => {
      await run(
        self,
        'channels.logs',
        () => {
          const lines = Number(options.lines);
          if (!Number.isInteger(lines) || lines < 1) throw new Error('--lines must be a positive integer');
          return { name, lines, ...(options.stream ? { stream: options.stream } : {}) };
        },
        (result) =>
          result.lines.map((line) => `${new Date(line.ts).toISOString()} ${line.stream === 'stderr' ? 'ERR' : 'OUT'} ${line.line}\n`).join('') +
          `(more in ${result.logFile})\n`,
      );
    });

  return channels;
}

function dataText(data: unknown): string {
  if (data === undefined) return '';
  const channels = (data as { channels?: unknown[] }).channels;
  return Array.isArray(channels) ? ` (configured: ${channels.length > 0 ? channels.join(', ') : 'none'})` : '';
}

function duration(ms: number | null): string {
  if (ms === null) return '-';
  const seconds = Math.floor(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${seconds % 60}s`;
  return `${Math.floor(seconds / 3600)}h${Math.floor((seconds % 3600) / 60)}m`;
}

function exitText(view: ChannelView): string {
  if (!view.lastExit) return '-';
  return view.lastExit.signal ? view.lastExit.signal : `code ${view.lastExit.code}`;
}

function channelTable(channels: ChannelView[]): string {
  if (channels.length === 0) return 'no channels configured\n';
  const rows = [
    ['NAME', 'STATE', 'PID', 'UPTIME', 'RESTARTS', 'LAST EXIT', 'REQUIRED', 'ADAPTER'],
    ...channels.map((view) => [
      view.name,
      view.state,
      view.pid === null ? '-' : String(view.pid),
      duration(view.uptimeMs),
      String(view.restarts),
      exitText(view),
      view.required ? 'yes' : 'no',
      view.adapter,
    ]),
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  const table = rows.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join('  ').trimEnd()).join('\n');
  const reasons = channels.filter((view) => view.reason && view.state !== 'running').map((view) => `${view.name}: ${view.reason}`);
  return `${table}\n${reasons.length > 0 ? `\n${reasons.join('\n')}\n` : ''}`;
}

function showChannel(view: ChannelView): string {
  return `${view.name}: ${view.state}${view.pid !== null ? ` (pid ${view.pid})` : ''}${view.reason && view.state !== 'running' ? `: ${view.reason}` : ''}\n`;
}
