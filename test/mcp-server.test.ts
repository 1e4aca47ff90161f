// `switchyard mcp` end to end: the real CLI in a child process, spoken to by the MCP SDK's own
// client over stdio, against a test gateway (real Temporal, real `claude` on the fake API).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { coreMethods } from '../api/rpc/methods/index.js';
import { removeCronJobs, uniqueJobName } from './support/cron.js';
import { startFakeAnthropic, type FakeAnthropic } from './support/fake-anthropic.js';
import { startTestGateway, uniqueScope, type TestGateway } from './support/gateway.js';
import { eventually } from './support/sessions.js';
import { freePort, switchyardArgv } from './support/processes.js';

const TOKEN = 'mcp-server-token-5c2a';

const EXPECTED_TOOLS = {
  gateway_status: 'gateway.status',
  sessions_list: 'sessions.list',
  sessions_get: 'sessions.get',
  sessions_send: 'sessions.send',
  sessions_history: 'sessions.history',
  cron_list: 'cron.list',
  cron_add: 'cron.add',
  cron_pause: 'cron.pause',
  cron_resume: 'cron.resume',
  cron_trigger: 'cron.trigger',
  channels_list: 'channels.list',
  channels_restart: 'channels.restart',
} as const;

let fake: FakeAnthropic;
let gateway: TestGateway;
let home: string;
let mcp: Client;
const clients: Client[] = [];
const jobs: string[] = [];

/** An MCP client of a fresh `switchyard mcp` child; its environment has no SWITCHYARD_* but `env`. */
async function connectMcp(args: string[], env: Record<string, string>): Promise<Client> {
  const childEnv: Record<string, string> = { SWITCHYARD_HOME: home, ...env };
  for (const [name, value] of Object.entries(process.env)) if (value !== undefined && !name.startsWith('SWITCHYARD_')) childEnv[name] ??= value;
  const transport = new StdioClientTransport({ command: process.execPath, args: switchyardArgv('mcp', ...args), env: childEnv, cwd: home, stderr: 'pipe' });
  const client = new Client({ name: 'switchyard-test', version: '0.0.0' });
  await client.connect(transport);
  clients.push(client);
  return client;
}

async function call(client: Client, name: string, args: Record<string, unknown> = {}): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

function textOf(result: CallToolResult): string {
  return result.content.map((block) => (block.type === 'text' ? block.text : '')).join('');
}

/** The JSON a successful call answered with. */
async function ok(client: Client, name: string, args: Record<string, unknown> = {}): Promise<any> {
  const result = await call(client, name, args);
  assert.notEqual(result.isError, true, `${name} failed: ${textOf(result)}`);
  return JSON.parse(textOf(result));
}

/** The text of a call that must fail as a tool error (not a protocol error). */
async function toolError(client: Client, name: string, args: Record<string, unknown> = {}): Promise<string> {
  const result = await call(client, name, args);
  assert.equal(result.isError, true, `${name} should have failed, answered ${textOf(result)}`);
  return textOf(result);
}

before(async () => {
  fake = await startFakeAnthropic();
  gateway = await startTestGateway({ fake, token: TOKEN });
  home = mkdtempSync(path.join(tmpdir(), 'switchyard-mcp-test-'));
  mcp = await connectMcp(['--url', gateway.rpcUrl], { SWITCHYARD_TOKEN: TOKEN });
});
after(async () => {
  for (const client of clients) await client.close().catch(() => undefined);
  if (gateway) await removeCronJobs(gateway.client, jobs);
  await gateway?.close();
  await fake?.close();
  rmSync(home, { recursive: true, force: true });
});

describe('switchyard mcp', () => {
  test('lists every tool with a description and the JSON Schema of its method\'s params', async () => {
    const { tools } = await mcp.listTools();
    assert.deepEqual(tools.map((tool) => tool.name).sort(), Object.keys(EXPECTED_TOOLS).sort());
    for (const tool of tools) {
      assert.ok((tool.description ?? '').length > 60, `${tool.name} has a description`);
      assert.equal(tool.inputSchema.type, 'object', tool.name);
      const method = coreMethods.find((entry) => entry.name === EXPECTED_TOOLS[tool.name as keyof typeof EXPECTED_TOOLS]);
      // One source of truth: the tool's properties are the RPC method's params.
      if (method) assert.deepEqual(Object.keys(tool.inputSchema.properties ?? {}).sort(), Object.keys((method.params as unknown as { shape: object }).shape).sort(), tool.name);
    }
    const byName = new Map(tools.map((tool) => [tool.name, tool]));
    assert.deepEqual(byName.get('sessions_send')!.inputSchema.required, ['message']);
    assert.deepEqual(byName.get('cron_add')!.inputSchema.required?.sort(), ['job', 'name']);
    assert.equal(byName.get('sessions_history')!.annotations?.readOnlyHint, true);
    assert.equal(byName.get('sessions_send')!.annotations?.readOnlyHint, false);
    assert.deepEqual(Object.keys(byName.get('channels_restart')!.inputSchema.properties ?? {}), ['name']);
  });

  test('sessions_send runs a turn that sessions_history, sessions_get and sessions_list show', async () => {
    const sessionKey = `agent:main:${uniqueScope('mcp')}`;
    fake.enqueueFor('mcp-send-1', { kind: 'text', text: 'answered through the gateway' });
    const sent = await ok(mcp, 'sessions_send', { message: 'mcp-send-1', sessionKey, idempotencyKey: `${sessionKey}:1` });
    assert.equal(sent.accepted, true);
    assert.equal(sent.duplicate, false);
    assert.equal(sent.sessionKey, sessionKey);

    const completed = await eventually('turn.completed in sessions_history', async () => {
      const page = await ok(mcp, 'sessions_history', { sessionKey, limit: 10 });
      return page.events.find((event: any) => event.type === 'turn.completed');
    });
    assert.equal(completed.turnId, sent.messageId);
    assert.equal(completed.data.result, 'answered through the gateway');

    const state = await ok(mcp, 'sessions_get', { sessionKey });
    assert.equal(state.turnCount, 1);
    assert.equal(state.status, 'idle');

    const again = await ok(mcp, 'sessions_send', { message: 'mcp-send-1', sessionKey, idempotencyKey: `${sessionKey}:1` });
    assert.equal(again.duplicate, true);

    await eventually('the session in sessions_list', async () => {
      const listed = await ok(mcp, 'sessions_list', { agent: 'main', limit: 200 });
      return listed.sessions.some((session: any) => session.sessionKey === sessionKey);
    });
  });

  test('cron_add, cron_list, cron_pause, cron_resume and cron_trigger manage a job', async () => {
    const name = uniqueJobName('mcp');
    jobs.push(name);
    fake.enqueueFor(`mcp-cron-${name}`, { kind: 'text', text: 'the cron run answered' });
    const added = await ok(mcp, 'cron_add', { name, job: { schedule: { every: '1h' }, prompt: `mcp-cron-${name}` } });
    assert.equal(added.name, name);
    assert.equal(added.paused, false);

    await eventually('the job in cron_list', async () => (await ok(mcp, 'cron_list')).jobs.some((job: any) => job.name === name));

    const paused = await ok(mcp, 'cron_pause', { name, note: 'paused by an agent' });
    assert.equal(paused.paused, true);
    assert.equal(paused.note, 'paused by an agent');
    const resumed = await ok(mcp, 'cron_resume', { name });
    assert.equal(resumed.paused, false);

    const triggered = await ok(mcp, 'cron_trigger', { name });
    assert.equal(triggered.name, name);
    const run = await eventually('the triggered run completes', async () => {
      const page = await ok(mcp, 'sessions_history', { sessionKey: added.sessionKey });
      return page.events.find((event: any) => event.type === 'turn.completed');
    });
    assert.equal(run.data.result, 'the cron run answered');

    assert.match(await toolError(mcp, 'cron_add', { name, job: { schedule: { every: '1h' }, prompt: 'again' } }), /Cron job exists|exists/i);
  });

  test('errors are tool errors, and the server keeps serving after them', async () => {
    assert.match(await toolError(mcp, 'sessions_get', { sessionKey: `agent:main:${uniqueScope('never')}` }), /Session not found.*-32001/);
    assert.match(await toolError(mcp, 'cron_pause', { name: uniqueJobName('missing') }), /no cron job named .*-32010/);
    assert.match(await toolError(mcp, 'sessions_send', { message: 'hi', sessionKey: 'not-a-key' }), /sessionKey/);
    assert.match(await toolError(mcp, 'sessions_send', { message: 'hi', agent: 'no-such-agent' }), /Unknown agent/);
    assert.ok(Array.isArray((await ok(mcp, 'channels_list')).channels));
    assert.match(await toolError(mcp, 'channels_restart', { name: 'no-such-channel' }), /-32021/);

    const status = await ok(mcp, 'gateway_status');
    assert.equal(status.ready, true);
    assert.ok(!JSON.stringify(status).includes(TOKEN));
  });

  test('a gateway that is down or refuses the token is a tool error too', async () => {
    const down = await connectMcp(['--url', `ws://127.0.0.1:${await freePort()}/rpc`], { SWITCHYARD_TOKEN: '' });
    assert.match(await toolError(down, 'gateway_status'), /cannot reach the Switchyard gateway/);
    assert.equal((await down.listTools()).tools.length, Object.keys(EXPECTED_TOOLS).length);

    const refused = await connectMcp(['--url', gateway.rpcUrl], { SWITCHYARD_TOKEN: 'not-the-token' });
    const text = await toolError(refused, 'sessions_list');
    assert.match(text, /401/);
    assert.match(text, /token was refused/);
    assert.ok(!text.includes(TOKEN));
  });
});
