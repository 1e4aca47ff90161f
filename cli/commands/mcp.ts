// `switchyard mcp`: an MCP server on stdin/stdout whose tools control a running gateway
// (docs/mcp.md). It reaches the gateway like `switchyard call`: --url and --token, else
// $SWITCHYARD_TOKEN and the config. Stdout carries the protocol only; messages go to stderr.
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { Command } from 'commander';
import { GATEWAY_VERSION } from '../../api/rpc/rpc-server.js';
import { GatewayConnection } from '../../mcp/gateway-connection.js';
import { createGatewayMcpServer } from '../../mcp/server.js';
import { rpcTarget } from './call.js';
import { addConfigFlagOptions } from './config.js';

interface McpOptions {
  url?: string;
  token?: string;
}

export function mcpCommand(): Command {
  const command = new Command('mcp')
    .description('serve the gateway\'s tools (sessions, cron, channels, status) as an MCP server over stdio, for Claude Code or Claude Desktop; see docs/mcp.md')
    .option('--url <url>', "the gateway's WebSocket URL (default: ws://<gateway.bind>:<gateway.port>/rpc from the config)")
    .option('--token <token>', 'bearer token (default: $SWITCHYARD_TOKEN, else gateway.auth.token from the config)')
    .addHelpText(
      'after',
      '\nThe gateway is reached on the first tool call, not at start: while it is down, tools answer with an error and the server keeps running.\nAn empty SWITCHYARD_TOKEN means "no token" and, with --url, that no config is read.',
    );
  addConfigFlagOptions(command);

  command.action(async (options: McpOptions, self: Command) => {
    const target = rpcTarget(self, options);
    const gateway = new GatewayConnection(target);
    const server = createGatewayMcpServer(gateway, { version: GATEWAY_VERSION });
    const transport = new StdioServerTransport();

    let stopping = false;
    const stop = async () => {
      if (stopping) return;
      stopping = true;
      await server.close().catch(() => undefined);
      await gateway.close();
      process.exit(0);
    };
    // The client closing our stdin is the MCP way to say "done"; the transport does not watch for it.
    process.stdin.once('end', () => void stop());
    process.once('SIGTERM', () => void stop()).once('SIGINT', () => void stop());
    transport.onclose = () => void stop();
    await server.connect(transport);
  });
  return command;
}
