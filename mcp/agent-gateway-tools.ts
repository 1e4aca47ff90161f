// `gatewayTools: true` in an agent's config: each of its turns gets the `switchyard mcp`
// server through `--mcp-config <file>`. The file holds the gateway's token (in the server's
// env: the agent's own environment never has SWITCHYARD_* secrets), so it is written for one
// turn only, mode 0600 in a private directory, and removed when the turn ends.
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defaultRpcUrl } from '../cli/commands/call.js';
import type { AgentConfig, Config } from '../config/schema.js';
import type { GatewayTarget } from './gateway-connection.js';
import { GATEWAY_TOOLS_ALLOW_RULE, MCP_SERVER_NAME } from './names.js';

export interface LaunchCommand {
  command: string;
  args: string[];
}

/**
 * How a child process runs this same `switchyard`: node with bin/switchyard.js, which runs
 * the sources through tsx in a checkout and dist/ in an installed package. Found by walking
 * up from this module, which sits in mcp/ (sources) or dist/mcp/ (compiled).
 */
export function switchyardLaunch(): LaunchCommand {
  for (let dir = import.meta.dirname; ; dir = path.dirname(dir)) {
    const bin = path.join(dir, 'bin', 'switchyard.js');
    if (existsSync(bin)) return { command: process.execPath, args: [bin] };
    if (path.dirname(dir) === dir) throw new Error(`bin/switchyard.js not found above ${import.meta.dirname}`);
  }
}

/** Where the worker's agents reach the gateway: the config's API address unless the caller knows better. */
export function gatewayToolsTarget(config: Pick<Config, 'gateway'>, rpcUrl?: string): GatewayTarget {
  return { url: rpcUrl ?? defaultRpcUrl(config), token: config.gateway.auth.token };
}

/** The `--mcp-config` document: one stdio server, `switchyard mcp`, pointed at the gateway. */
export function gatewayToolsMcpConfig(target: GatewayTarget, launch: LaunchCommand = switchyardLaunch()): { mcpServers: Record<string, unknown> } {
  return {
    mcpServers: {
      [MCP_SERVER_NAME]: {
        type: 'stdio',
        command: launch.command,
        args: [...launch.args, 'mcp', '--url', target.url],
        // The token travels in the environment, not argv (which `ps` shows). An empty one
        // says "no token" and keeps `switchyard mcp` from reading a config in the agent's cwd.
        env: { SWITCHYARD_TOKEN: target.token ?? '' },
        // `claude -p` does not wait for MCP servers to connect (2.1.x): without this, the
        // first request of a turn goes out before the tools are there.
        alwaysLoad: true,
      },
    },
  };
}

/**
 * How long `claude -p` waits for the server before its first request (MCP_CONNECT_TIMEOUT_MS,
 * 5 s by default, for `alwaysLoad` servers only) and lets it take to start (MCP_TIMEOUT,
 * 30 s): `switchyard mcp` loads the gateway's modules, which takes seconds on a busy machine.
 * Defaults only: an agent's own `env` wins.
 */
export const GATEWAY_TOOLS_CLI_ENV = { MCP_CONNECT_TIMEOUT_MS: '60000', MCP_TIMEOUT: '60000' } as const;

/** The agent as one turn runs it: the server's config file added, its tools allowed. */
export function agentWithGatewayTools(agent: AgentConfig, mcpConfigFile: string): AgentConfig {
  return {
    ...agent,
    mcpConfig: [...agent.mcpConfig, mcpConfigFile],
    allowedTools: agent.allowedTools.includes(GATEWAY_TOOLS_ALLOW_RULE) ? agent.allowedTools : [...agent.allowedTools, GATEWAY_TOOLS_ALLOW_RULE],
    env: { ...GATEWAY_TOOLS_CLI_ENV, ...agent.env },
  };
}

/**
 * Runs one turn: for an agent with `gatewayTools`, with the server's config written for the
 * turn and removed after it, whatever happens; for any other agent, as it is.
 */
export async function withGatewayTools<T>(agent: AgentConfig, target: () => GatewayTarget, run: (agent: AgentConfig) => Promise<T>): Promise<T> {
  if (!agent.gatewayTools) return run(agent);
  // mkdtemp makes the directory 0700: nobody else can list it or open the file.
  const dir = await mkdtemp(path.join(tmpdir(), 'switchyard-mcp-'));
  try {
    const file = path.join(dir, 'mcp.json');
    await writeFile(file, JSON.stringify(gatewayToolsMcpConfig(target())), { mode: 0o600, flag: 'wx' });
    return await run(agentWithGatewayTools(agent, file));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
