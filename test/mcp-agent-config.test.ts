// gatewayTools' per-turn MCP config: what it holds, where the token goes, the file's mode,
// and that it is gone after the turn whatever the turn did.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { buildClaudeInvocation } from '../activities/claude-invocation.js';
import { AgentSchema, ConfigSchema } from '../config/schema.js';
import {
  GATEWAY_TOOLS_CLI_ENV,
  agentWithGatewayTools,
  gatewayToolsMcpConfig,
  gatewayToolsTarget,
  switchyardLaunch,
  withGatewayTools,
} from '../mcp/agent-gateway-tools.js';
import { GATEWAY_TOOLS_ALLOW_RULE, MCP_SERVER_NAME } from '../mcp/names.js';

const TARGET = { url: 'ws://127.0.0.1:8420/rpc', token: 'secret-token-3f9' };

describe('gatewayTools MCP config', () => {
  test('one stdio server running `switchyard mcp --url`, the token in its env and not in argv', () => {
    const config = gatewayToolsMcpConfig(TARGET, { command: '/usr/bin/node', args: ['/opt/switchyard/bin/switchyard.js'] });
    assert.deepEqual(config, {
      mcpServers: {
        switchyard: {
          type: 'stdio',
          command: '/usr/bin/node',
          args: ['/opt/switchyard/bin/switchyard.js', 'mcp', '--url', TARGET.url],
          env: { SWITCHYARD_TOKEN: TARGET.token },
          alwaysLoad: true,
        },
      },
    });
    const withoutToken = gatewayToolsMcpConfig({ url: TARGET.url }, { command: 'node', args: [] });
    assert.deepEqual((withoutToken.mcpServers[MCP_SERVER_NAME] as { env: unknown }).env, { SWITCHYARD_TOKEN: '' });
  });

  test('the launch command is node with this checkout\'s bin/switchyard.js', () => {
    const launch = switchyardLaunch();
    assert.equal(launch.command, process.execPath);
    assert.deepEqual(launch.args, [path.resolve(import.meta.dirname, '../bin/switchyard.js')]);
  });

  test('the target is the config\'s API on loopback with its token, unless a URL is given', () => {
    const config = ConfigSchema.parse({ gateway: { bind: '0.0.0.0', port: 9123, auth: { token: 'tok' } } });
    assert.deepEqual(gatewayToolsTarget(config), { url: 'ws://127.0.0.1:9123/rpc', token: 'tok' });
    assert.deepEqual(gatewayToolsTarget(config, 'ws://127.0.0.1:1/rpc'), { url: 'ws://127.0.0.1:1/rpc', token: 'tok' });
  });

  test('the turn\'s agent gets the file as --mcp-config and the server allowed, once', () => {
    const agent = AgentSchema.parse({ gatewayTools: true, allowedTools: ['Read'], mcpConfig: ['own.json'], env: { MCP_TIMEOUT: '5000' } });
    const turnAgent = agentWithGatewayTools(agent, '/tmp/x/mcp.json');
    assert.deepEqual(turnAgent.mcpConfig, ['own.json', '/tmp/x/mcp.json']);
    assert.deepEqual(turnAgent.allowedTools, ['Read', GATEWAY_TOOLS_ALLOW_RULE]);
    assert.deepEqual(agentWithGatewayTools(turnAgent, '/tmp/y.json').allowedTools, ['Read', GATEWAY_TOOLS_ALLOW_RULE]);
    // Defaults for the CLI's MCP timeouts; the agent's own env wins.
    assert.equal(turnAgent.env.MCP_TIMEOUT, '5000');
    assert.equal(turnAgent.env.MCP_CONNECT_TIMEOUT_MS, GATEWAY_TOOLS_CLI_ENV.MCP_CONNECT_TIMEOUT_MS);

    const invocation = buildClaudeInvocation(turnAgent, { prompt: 'hi', claudeSessionId: 'c', resume: false }, { command: 'claude', baseEnv: { SWITCHYARD_TOKEN: 'x' }, baseDir: '/srv' });
    assert.deepEqual(invocation.args.slice(invocation.args.indexOf('--allowedTools'), invocation.args.indexOf('--allowedTools') + 2), ['--allowedTools', `Read,${GATEWAY_TOOLS_ALLOW_RULE}`]);
    assert.ok(invocation.args.join(' ').includes('--mcp-config /srv/own.json --mcp-config /tmp/x/mcp.json'));
    assert.equal(invocation.env.SWITCHYARD_TOKEN, undefined);
  });

  test('withGatewayTools writes a 0600 file in a private directory for the turn, and removes it after', async () => {
    const agent = AgentSchema.parse({ gatewayTools: true });
    let seen: string | undefined;
    await withGatewayTools(agent, () => TARGET, async (turnAgent) => {
      seen = turnAgent.mcpConfig.at(-1)!;
      assert.equal(statSync(seen).mode & 0o777, 0o600);
      assert.equal(statSync(path.dirname(seen)).mode & 0o777, 0o700);
      const written = JSON.parse(readFileSync(seen, 'utf8'));
      assert.equal(written.mcpServers.switchyard.env.SWITCHYARD_TOKEN, TARGET.token);
    });
    assert.ok(seen && !existsSync(path.dirname(seen)));

    let failed: string | undefined;
    await assert.rejects(
      withGatewayTools(agent, () => TARGET, async (turnAgent) => {
        failed = turnAgent.mcpConfig.at(-1)!;
        throw new Error('the turn crashed');
      }),
      /the turn crashed/,
    );
    assert.ok(failed && !existsSync(path.dirname(failed)));
  });

  test('an agent without gatewayTools runs as it is, and no file is written', async () => {
    const agent = AgentSchema.parse({});
    assert.equal(agent.gatewayTools, false);
    const result = await withGatewayTools(agent, () => assert.fail('no target needed'), async (turnAgent) => {
      assert.equal(turnAgent, agent);
      return 42;
    });
    assert.equal(result, 42);
  });
});
