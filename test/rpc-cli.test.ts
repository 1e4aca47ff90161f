// `switchyard call` end to end: the real CLI in a child process against a gateway's /rpc.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import YAML from 'yaml';
import { startFakeAnthropic, type FakeAnthropic } from './support/fake-anthropic.js';
import { startTestGateway, uniqueScope, type TestGateway } from './support/gateway.js';
import { switchyardArgv } from './support/processes.js';

const TOKEN = 'cli-call-token-7d1e';

let fake: FakeAnthropic;
let gateway: TestGateway;
let home: string;

before(async () => {
  fake = await startFakeAnthropic();
  gateway = await startTestGateway({ fake, worker: false, token: TOKEN });
  home = mkdtempSync(path.join(tmpdir(), 'switchyard-call-'));
});
after(async () => {
  await gateway?.close();
  await fake?.close();
  rmSync(home, { recursive: true, force: true });
});

function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, SWITCHYARD_HOME: home, ...extra };
  for (const name of Object.keys(env)) if (name.startsWith('SWITCHYARD_') && !(name in extra) && name !== 'SWITCHYARD_HOME') delete env[name];
  return env;
}

function switchyard(args: string[], options: { env?: Record<string, string>; cwd?: string } = {}) {
  return spawn(process.execPath, switchyardArgv(...args), { cwd: options.cwd ?? home, env: childEnv(options.env), stdio: ['ignore', 'pipe', 'pipe'] });
}

async function run(args: string[], options: { env?: Record<string, string>; cwd?: string } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = switchyard(args, options);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { code, stdout, stderr };
}

describe('switchyard call', () => {
  test('gateway.health --json prints the result as one line of JSON', async () => {
    const result = await run(['call', 'gateway.health', '--url', gateway.rpcUrl, '--token', TOKEN, '--json']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.trim().split('\n').length, 1);
    assert.equal(JSON.parse(result.stdout).ok, true);
  });

  test('without --json the result is YAML; params are JSON', async () => {
    const result = await run(['call', 'config.get', '{"path":"gateway.rpc"}', '--url', gateway.rpcUrl, '--token', TOKEN]);
    assert.equal(result.code, 0, result.stderr);
    const printed = YAML.parse(result.stdout);
    assert.equal(printed.path, 'gateway.rpc');
    assert.equal(printed.config.maxFrameBytes, gateway.config.gateway.rpc.maxFrameBytes);
  });

  test('the token comes from SWITCHYARD_TOKEN, and the URL from the config', async () => {
    const project = mkdtempSync(path.join(tmpdir(), 'switchyard-call-project-'));
    try {
      const port = new URL(gateway.url).port;
      writeFileSync(path.join(project, 'switchyard.yaml'), `gateway:\n  bind: 127.0.0.1\n  port: ${port}\n`);
      const result = await run(['call', 'gateway.status', '--json'], { cwd: project, env: { SWITCHYARD_TOKEN: TOKEN } });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(JSON.parse(result.stdout).rpc.connections >= 1, true);
      assert.ok(!result.stdout.includes(TOKEN));
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  });

  test('an error answer exits 1 with the code on stderr', async () => {
    const result = await run(['call', 'sessions.get', '{"sessionKey":"nope"}', '--url', gateway.rpcUrl, '--token', TOKEN, '--json']);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    const error = JSON.parse(result.stderr);
    assert.equal(error.code, -32602);
    assert.deepEqual(error.data.issues[0].path, ['sessionKey']);
    const pretty = await run(['call', 'no.such.method', '--url', gateway.rpcUrl, '--token', TOKEN]);
    assert.equal(pretty.code, 1);
    assert.match(pretty.stderr, /^error -32601: Method not found/);
  });

  test('params that are not JSON exit 2; a refused connection exits 3', async () => {
    const badParams = await run(['call', 'gateway.health', '{nope', '--url', gateway.rpcUrl, '--token', TOKEN]);
    assert.equal(badParams.code, 2);
    assert.match(badParams.stderr, /not valid JSON/);
    const badToken = await run(['call', 'gateway.health', '--url', gateway.rpcUrl, '--token', 'wrong']);
    assert.equal(badToken.code, 3);
    assert.match(badToken.stderr, /401/);
  });

  test('sessions.subscribe prints the subscription, then events as they come, until interrupted', async () => {
    const sessionKey = `agent:main:${uniqueScope('cli')}`;
    const child = switchyard(['call', 'sessions.subscribe', JSON.stringify({ sessionKey }), '--url', gateway.rpcUrl, '--token', TOKEN, '--json']);
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const subscribed = JSON.parse((await lines.next()).value as string);
    assert.equal(subscribed.sessionKey, sessionKey);
    gateway.api.hub.publish([{ sessionKey, turnId: 't1', type: 'turn.delta', data: { text: 'from the hub' }, ts: Date.now() }]);
    const event = JSON.parse((await lines.next()).value as string);
    assert.equal(event.subscription, subscribed.subscription);
    assert.equal(event.type, 'turn.delta');
    assert.equal(event.data.text, 'from the hub');
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    child.kill('SIGINT');
    assert.equal(await exited, 0);
  });
});
