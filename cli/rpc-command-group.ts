// A command group whose subcommands each make one JSON-RPC call to a running gateway and print
// its answer (`switchyard cron ...`, `switchyard channels ...`): the connection options, the
// exit status of docs/rpc.md's CLI conventions, and the error output, in one place.
//
// Exit status: 0 done, 1 the gateway answered with an error, 2 bad usage, 3 no connection,
// 78 invalid config.
import { Command } from 'commander';
import { RpcClient, RpcConnectError, RpcResponseError, type RpcParams, type RpcResult } from '../client/rpc-client.js';
import { CALL_EXIT, rpcTarget } from './commands/call.js';
import { addConfigFlagOptions } from './commands/config.js';
import type { CoreMethodName } from '../api/rpc/methods/index.js';

export interface RpcCommandIO {
  writeOut?: (text: string) => void;
  writeErr?: (text: string) => void;
}

export interface RpcCommandGroup {
  group: Command;
  /** A subcommand with --url, --token, --json and the config flags. */
  sub(name: string, description: string): Command;
  /** Builds the params (a throw is a usage error), calls, prints `show(result)` or the JSON. */
  run<M extends CoreMethodName>(self: Command, method: M, params: () => RpcParams<M>, show: (result: RpcResult<M>) => string): Promise<void>;
}

export function rpcCommandGroup(
  name: string,
  description: string,
  io: RpcCommandIO,
  /** Extra text after an error answer's message, from its `data` (e.g. the invalid params). */
  describeData: (data: unknown) => string = () => '',
): RpcCommandGroup {
  const out = io.writeOut ?? ((text: string) => process.stdout.write(text));
  const err = io.writeErr ?? ((text: string) => process.stderr.write(text));
  const group = new Command(name)
    .description(description)
    .addHelpText('after', '\nExit status: 0 done, 1 the gateway answered with an error, 2 bad usage, 3 no connection, 78 invalid config.');

  const sub = (subName: string, subDescription: string) => {
    const command = new Command(subName)
      .description(subDescription)
      .option('--url <url>', "the gateway's WebSocket URL (default: ws://<gateway.bind>:<gateway.port>/rpc from the config)")
      .option('--token <token>', 'bearer token (default: $SWITCHYARD_TOKEN, else gateway.auth.token from the config)')
      .option('--json', 'print the answer as one line of JSON');
    addConfigFlagOptions(command);
    group.addCommand(command);
    return command;
  };

  async function run<M extends CoreMethodName>(self: Command, method: M, params: () => RpcParams<M>, show: (result: RpcResult<M>) => string): Promise<void> {
    const options = self.opts<{ url?: string; token?: string; json?: boolean }>();
    let built: RpcParams<M>;
    try {
      built = params();
    } catch (error) {
      err(`switchyard ${name} ${self.name()}: ${(error as Error).message}\n`);
      process.exitCode = CALL_EXIT.usage;
      return;
    }
    const { url, token } = rpcTarget(self, options);
    let client: RpcClient;
    try {
      client = await RpcClient.connect(url, token ? { token } : {});
    } catch (error) {
      const hint = error instanceof RpcConnectError && error.status === 401 ? ' (pass --token or set SWITCHYARD_TOKEN)' : '';
      err(`switchyard ${name}: cannot connect to ${url}: ${(error as Error).message}${hint}\n`);
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
        else err(`error ${error.code}: ${error.message}${describeData(error.data)}\n`);
        process.exitCode = CALL_EXIT.rpcError;
      } else {
        err(`switchyard ${name}: ${(error as Error).message}\n`);
        process.exitCode = CALL_EXIT.connection;
      }
    } finally {
      await client.close().catch(() => undefined);
    }
  }

  return { group, sub, run };
}
