// `switchyard mcp`: the gateway's control surface as an MCP server (docs/mcp.md). Each tool
// calls one JSON-RPC method through a GatewayConnection; a failed call (an RPC error, the
// gateway down) is answered as a tool error (`isError`), so the server itself never fails.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { GatewayCallError, type GatewayConnection } from './gateway-connection.js';
import { MCP_SERVER_NAME } from './names.js';
import type { GatewayTool } from './tool.js';
import { channelTools } from './tools/channels.js';
import { cronTools } from './tools/cron.js';
import { gatewayTools } from './tools/gateway.js';
import { sessionTools } from './tools/sessions.js';

export const GATEWAY_TOOLS: readonly GatewayTool[] = [...gatewayTools, ...sessionTools, ...cronTools, ...channelTools];

export function createGatewayMcpServer(gateway: Pick<GatewayConnection, 'call'>, options: { version: string }): McpServer {
  const server = new McpServer(
    { name: MCP_SERVER_NAME, title: 'Switchyard gateway', version: options.version },
    {
      instructions:
        'Tools to control the Switchyard gateway that runs Claude Code agents: send messages to agent sessions and read their events, manage scheduled (cron) jobs, and check the gateway and its channels.',
    },
  );
  for (const tool of GATEWAY_TOOLS) {
    server.registerTool(
      tool.name,
      {
        title: tool.title,
        description: tool.description,
        inputSchema: tool.input,
        annotations: { title: tool.title, readOnlyHint: tool.readOnly, destructiveHint: false, openWorldHint: false },
      },
      (args: unknown) => callTool(gateway, tool, args),
    );
  }
  return server;
}

async function callTool(gateway: Pick<GatewayConnection, 'call'>, tool: GatewayTool, args: unknown): Promise<CallToolResult> {
  try {
    const result = await gateway.call(tool.method, args);
    return { content: [{ type: 'text', text: JSON.stringify(result, null, 2) }] };
  } catch (error) {
    const text = error instanceof GatewayCallError ? error.message : `${tool.method} failed: ${(error as Error).message}`;
    return { content: [{ type: 'text', text }], isError: true };
  }
}
