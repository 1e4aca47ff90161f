// `switchyard call <method> [json-params]`: one JSON-RPC call to a running gateway, its
// result printed as YAML (or `--json`, one line, for scripts). `sessions.subscribe` keeps
// printing the events until Ctrl-C or the connection closes.
//
// Exit status: 0 answered, 1 the gateway answered with an error, 2 bad params on the
// command line, 3 no connection (unreachable, or refused: bad token), 78 invalid config.
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import YAML from 'yaml';
import { RpcClient, RpcConnectError, RpcResponseError, type SessionEventMessage } from '../../client/rpc-client.js';
import { gatewayHost } from '../../config/paths.js';
import type { Config } from '../../config/schema.js';
import { addConfigFlagOptions, loadConfigForCommand } from './config.js';

export const CALL_EXIT = { ok: 0, rpcError: 1, usage: 2, connection: 3 } as const;

interface CallOptions {
  url?: string;
  token?: string;
  json?: boolean;
  timeout?: string;
}

export interface CallCommandIO {
  writeOut?: (text: string) => void;
  writeErr?: (text: string) => void;
}

/** `ws://<bind>:<port>/rpc`; a wildcard bind is reached on loopback. */
export function defaultRpcUrl(config: Pick<Config, 'gateway'>): string {
  return `ws://${gatewayHost(config)}:${config.gateway.port}/rpc`;
}

/** Where a command's RPC goes: --url and --token, else $SWITCHYARD_TOKEN and the config. */
export function rpcTarget(command: Command, options: { url?: string; token?: string }): { url: string; token: string | undefined } {
  let { url } = options;
  let token = options.token ?? process.env.SWITCHYARD_TOKEN;
  if (url === undefined || token === undefined) {
    const { config } = loadConfigForCommand(command);
    url ??= defaultRpcUrl(config);
    token ??= config.gateway.auth.token;
  }
  return { url, token };
}

function parseParams(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  const source = text === '-' ? readFileSync(0, 'utf8') : text;
  return JSON.parse(source);
}

export function callCommand(io: CallCommandIO = {}): Command {
  const out = io.writeOut ?? ((text: string) => process.stdout.write(text));
  const err = io.writeErr ?? ((text: string) => process.stderr.write(text));
  const command = new Command('call')
    .description('call a JSON-RPC method of a running gateway (docs/rpc.md), e.g. `switchyard call sessions.send \'{"message":"hi"}\'`')
    .argument('<method>', 'method name, e.g. gateway.status, sessions.send, sessions.subscribe')
    .argument('[json-params]', 'params as JSON (an object); "-" reads them from stdin')
    .option('--url <url>', 'the gateway\'s WebSocket URL (default: ws://<gateway.bind>:<gateway.port>/rpc from the config)')
    .option('--token <token>', 'bearer token (default: $SWITCHYARD_TOKEN, else gateway.auth.token from the config)')
    .option('--json', 'print the result as one line of JSON (events: one line each), errors as JSON on stderr')
    .option('--timeout <ms>', 'give up on an answer after this long', '30000')
    .addHelpText(
      'after',
      '\nExit status: 0 answered, 1 the gateway answered with an error, 2 bad params, 3 no connection (unreachable or refused), 78 invalid config.',
    );
  addConfigFlagOptions(command);

  command.action(async (method: string, paramsText: string | undefined, options: CallOptions, self: Command) => {
    let params: unknown;
    try {
      params = parseParams(paramsText);
    } catch (error) {
      err(`switchyard call: params are not valid JSON: ${(error as Error).message}\n`);
      process.exitCode = CALL_EXIT.usage;
      return;
    }
    const { url, token } = rpcTarget(self, options);
    const timeoutMs = Number(options.timeout);

    let client: RpcClient;
    try {
      client = await RpcClient.connect(url, { ...(token ? { token } : {}), connectTimeoutMs: Number.isFinite(timeoutMs) ? timeoutMs : 30_000 });
    } catch (error) {
      const hint = error instanceof RpcConnectError && error.status === 401 ? ' (pass --token or set SWITCHYARD_TOKEN)' : '';
      err(`switchyard call: cannot connect: ${(error as Error).message}${hint}\n`);
      process.exitCode = CALL_EXIT.connection;
      return;
    }

    const print = (value: unknown) => out(options.json ? `${JSON.stringify(value)}\n` : YAML.stringify(value, { lineWidth: 0 }));
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    try {
      if (method === 'sessions.subscribe') {
        await follow(client, params, options.json === true, print, out);
      } else {
        if (Number.isFinite(timeoutMs) && timeoutMs > 0) {
          timer = setTimeout(() => {
            timedOut = true;
            void client.close(1000, 'timeout');
          }, timeoutMs);
        }
        const result = await client.call(method, params);
        print(result);
        await client.close();
      }
      process.exitCode = CALL_EXIT.ok;
    } catch (error) {
      await client.close().catch(() => undefined);
      if (error instanceof RpcResponseError) {
        if (options.json) err(`${JSON.stringify({ code: error.code, message: error.message, ...(error.data === undefined ? {} : { data: error.data }) })}\n`);
        else err(`error ${error.code}: ${error.message}\n${error.data === undefined ? '' : YAML.stringify(error.data, { lineWidth: 0 })}`);
        process.exitCode = CALL_EXIT.rpcError;
        return;
      }
      err(`switchyard call: ${timedOut ? `no answer within ${timeoutMs} ms` : (error as Error).message}\n`);
      process.exitCode = CALL_EXIT.connection;
    } finally {
      // A pending timer would keep the process alive for the whole --timeout.
      clearTimeout(timer);
    }
  });
  return command;
}

/** Subscribes, prints the subscription, then every event until Ctrl-C or the connection closes. */
async function follow(client: RpcClient, params: unknown, json: boolean, print: (value: unknown) => void, out: (text: string) => void): Promise<void> {
  const stream = await client.subscribe(params as Parameters<RpcClient['subscribe']>[0]);
  print(stream.subscribed);
  const stop = () => void client.close();
  process.once('SIGINT', stop).once('SIGTERM', stop);
  for await (const event of stream) out(json ? `${JSON.stringify(event)}\n` : `${eventLine(event)}\n`);
  if (stream.closedWith && stream.closedWith.code !== 1000 && stream.closedWith.code !== 1005) {
    throw new Error(`connection closed (${stream.closedWith.code} ${stream.closedWith.reason}); resume with afterSeq ${stream.lastSeq ?? 0}`);
  }
}

function eventLine(event: SessionEventMessage): string {
  const seq = event.seq === undefined ? '   ' : `#${event.seq}`;
  const time = new Date(event.ts).toISOString();
  if (event.type === 'turn.delta') return `${seq} ${time} ${event.sessionKey} ${event.type} ${JSON.stringify(event.data.text ?? '')}`;
  return `${seq} ${time} ${event.sessionKey} ${event.type} ${event.turnId} ${JSON.stringify(event.data)}`;
}
