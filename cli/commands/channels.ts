// `switchyard channels list|start|stop|restart|logs`: the channel adapters of a running
// gateway, through its JSON-RPC API (the channels.* methods, docs/channels.md). Output is for
// people (a table, lines) or, with --json, one line of JSON for scripts.
//
// Exit status: 0 done, 1 the gateway answered with an error (unknown channel, ...), 2 bad
// usage, 3 no connection, 78 invalid config.
import { Command, Option } from 'commander';
import { RpcClient, RpcConnectError, RpcResponseError, type RpcParams, type RpcResult } from '../../client/rpc-client.js';
import { CALL_EXIT, rpcTarget } from './call.js';
import { addConfigFlagOptions } from './config.js';

type ChannelView = RpcResult<'channels.start'>;
type Method = 'channels.list' | 'channels.start' | 'channels.stop' | 'channels.restart' | 'channels.logs';

export interface ChannelsCommandIO {
  writeOut?: (text: string) => void;
  writeErr?: (text: string) => void;
}

export function channelsCommand(io: ChannelsCommandIO = {}): Command {
  const out = io.writeOut ?? ((text: string) => process.stdout.write(text));
  const err = io.writeErr ?? ((text: string) => process.stderr.write(text));
  const channels = new Command('channels')
    .description('the channel adapters of a running gateway: state, start, stop, restart, logs; see docs/channels.md')
    .addHelpText('after', '\nExit status: 0 done, 1 the gateway answered with an error, 2 bad usage, 3 no connection, 78 invalid config.');

  const sub = (name: string, description: string) => {
    const command = new Command(name)
      .description(description)
      .option('--url <url>', "the gateway's WebSocket URL (default: ws://<gateway.bind>:<gateway.port>/rpc from the config)")
      .option('--token <token>', 'bearer token (default: $SWITCHYARD_TOKEN, else gateway.auth.token from the config)')
      .option('--json', 'print the answer as one line of JSON');
    addConfigFlagOptions(command);
    channels.addCommand(command);
    return command;
  };

  async function run<M extends Method>(self: Command, method: M, params: () => RpcParams<M>, show: (result: RpcResult<M>) => string): Promise<void> {
    const options = self.opts<{ url?: string; token?: string; json?: boolean }>();
    let built: RpcParams<M>;
    try {
      built = params();
    } catch (error) {
      err(`switchyard channels ${self.name()}: ${(error as Error).message}\n`);
      process.exitCode = CALL_EXIT.usage;
      return;
    }
    const { url, token } = rpcTarget(self, options);
    let client: RpcClient;
    try {
      client = await RpcClient.connect(url, token ? { token } : {});
    } catch (error) {
      const hint = error instanceof RpcConnectError && error.status === 401 ? ' (pass --token or set SWITCHYARD_TOKEN)' : '';
      err(`switchyard channels: cannot connect to ${url}: ${(error as Error).message}${hint}\n`);
      process.exitCode = CALL_EXIT.connection;
      return;
    }
    try {
      const result = await (client.call as (method: string, params: unknown) => Promise<RpcResult<M>>)(method, built);
      out(options.json ? `${JSON.stringify(result)}\n` : show(result));
      process.exitCode = CALL_EXIT.ok;
    } catch (error) {
      if (error instanceof RpcResponseError) {
        if (options.json) err(`${JSON.stringify({ code: error.code, message: error.message, ...(error.data === undefined ? {} : { data: error.data }) })}\n`);
        else err(`error ${error.code}: ${error.message}${dataText(error.data)}\n`);
        process.exitCode = CALL_EXIT.rpcError;
      } else {
        err(`switchyard channels: ${(error as Error).message}\n`);
        process.exitCode = CALL_EXIT.connection;
      }
    } finally {
      await client.close().catch(() => undefined);
    }
  }

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
