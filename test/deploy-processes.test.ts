// The compose topology's Switchyard processes without Docker: the namespace set up by
// deploy/temporal/setup-namespace.sh (what the `temporal-setup` container runs), then the API
// and the worker as separate processes with the environment docker-compose.yml gives their
// containers (only addresses changed: loopback instead of service names), the config file it
// mounts, and the image's health check script for each role. A turn runs end to end and its
// live events reach a subscriber through worker.eventsUrl.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { RpcClient, type SessionEventMessage } from '../client/rpc-client.js';
import { resolveTemporalBinary } from '../supervisor/temporal-binary.js';
import { claudeEnv, startFakeAnthropic, type FakeAnthropic } from './support/fake-anthropic.js';
import { CLAUDE_BIN, postJson, temporalAddress, uniqueScope } from './support/gateway.js';
import { freePort } from './support/processes.js';
import { eventually } from './support/sessions.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const TOKEN = 'compose-test-token';
const INTERNAL_TOKEN = 'compose-test-internal-token';

type ComposeService = { environment?: Record<string, string | number> };
const compose = YAML.parse(fs.readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, ComposeService> };
/** `${VAR:-default}` → default (what Compose substitutes with nothing set). */
const withDefaults = (value: string | number) => String(value).replace(/\$\{[A-Z0-9_]+:-([^}]*)\}/g, '$1');
const serviceEnv = (name: string) => Object.fromEntries(Object.entries(compose.services[name]!.environment ?? {}).map(([key, value]) => [key, withDefaults(value)]));

describe('the compose services as processes', () => {
  const namespace = uniqueScope('compose').toLowerCase();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchyard-compose-processes-'));
  const home = path.join(dir, 'home');
  const workspace = path.join(dir, 'workspace');
  const children: ChildProcess[] = [];
  let fake: FakeAnthropic;
  let port: number;
  let baseEnv: NodeJS.ProcessEnv;

  const envFor = (service: 'switchyard-api' | 'switchyard-worker'): NodeJS.ProcessEnv => ({
    ...baseEnv,
    ...serviceEnv(service),
    // Loopback and this suite's Temporal instead of the compose network's service names.
    SWITCHYARD_GATEWAY__PORT: String(port),
    SWITCHYARD_TEMPORAL__ADDRESS: temporalAddress(),
    SWITCHYARD_TEMPORAL__NAMESPACE: namespace,
    ...(service === 'switchyard-worker' ? { SWITCHYARD_WORKER__EVENTS_URL: `http://127.0.0.1:${port}/internal/events` } : {}),
  });
  const run = (entry: string, env: NodeJS.ProcessEnv) => {
    const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), path.join(ROOT, entry)], { cwd: workspace, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => {
      if (code !== 0 && code !== null) console.error(`${entry} exited ${code}:\n${output.slice(-2000)}`);
    });
    children.push(child);
    return child;
  };
  const healthcheck = (role: 'api' | 'worker') =>
    spawnSync(process.execPath, ['--import', import.meta.resolve('tsx'), path.join(ROOT, 'observability/container-healthcheck.ts')], {
      cwd: workspace,
      env: { ...envFor(role === 'api' ? 'switchyard-api' : 'switchyard-worker'), SWITCHYARD_ROLE: role },
      encoding: 'utf8',
      timeout: 60_000,
    });

  before(async () => {
    fake = await startFakeAnthropic();
    port = await freePort();
    fs.mkdirSync(home);
    fs.mkdirSync(workspace);
    // The mounted config file, as in the container; only the CLI's path and cwd differ here.
    fs.copyFileSync(path.join(ROOT, 'deploy/switchyard.yaml'), path.join(home, 'config.yaml'));
    baseEnv = {
      ...process.env,
      ...claudeEnv(fake, path.join(dir, 'claude-config')),
      SWITCHYARD_HOME: home,
      SWITCHYARD_TOKEN: TOKEN,
      SWITCHYARD_INTERNAL_TOKEN: INTERNAL_TOKEN,
      SWITCHYARD_AGENT_DEFAULTS__COMMAND: CLAUDE_BIN,
      SWITCHYARD_AGENT_DEFAULTS__CWD: workspace,
      SWITCHYARD_LOG__LEVEL: 'warn',
    };
  });

  after(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
    await Promise.all(children.map((child) => (child.exitCode === null ? new Promise((resolve) => child.once('exit', resolve)) : undefined)));
    await fake?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('setup-namespace.sh creates the namespace and the search attributes (twice: idempotent)', async () => {
    const binary = await resolveTemporalBinary({ allowSdkDownload: false });
    if (binary.kind !== 'path') throw new Error('the temporal CLI is needed to run the setup script');
    for (let round = 0; round < 2; round++) {
      const result: SpawnSyncReturns<string> = spawnSync('sh', [path.join(ROOT, 'deploy/temporal/setup-namespace.sh')], {
        env: { ...process.env, PATH: `${path.dirname(binary.path)}:${process.env.PATH}`, TEMPORAL_ADDRESS: temporalAddress(), SWITCHYARD_NAMESPACE: namespace },
        encoding: 'utf8',
        timeout: 180_000,
      });
      assert.equal(result.status, 0, result.stdout + result.stderr);
      assert.match(result.stdout, new RegExp(`namespace ${namespace} is ready for Switchyard`));
      if (round === 1) assert.match(result.stdout, /search attribute SwitchyardState exists/);
    }
  });

  test('the API binds all interfaces with its token, the worker polls, and both health checks pass', async () => {
    run('worker/main.ts', envFor('switchyard-worker'));
    run('api/main.ts', envFor('switchyard-api'));
    await eventually('the API health check passes', () => healthcheck('api').status === 0, 120_000);
    await eventually('the worker health check passes', () => healthcheck('worker').status === 0, 180_000);
    const unauthorized = await postJson(`http://127.0.0.1:${port}/hooks/agent`, { message: 'hi' });
    assert.equal(unauthorized.status, 401);
  });

  test('a turn runs end to end and its live events reach a subscriber through worker.eventsUrl', async () => {
    const sessionKey = `agent:main:${uniqueScope('compose')}`;
    const rpc = await RpcClient.connect(`ws://127.0.0.1:${port}/rpc`, { token: TOKEN });
    try {
      const live: SessionEventMessage[] = [];
      const stream = await rpc.subscribe({ sessionKey });
      void (async () => {
        for await (const event of stream) live.push(event);
      })();
      const answer = await postJson(
        `http://127.0.0.1:${port}/hooks/agent`,
        { message: 'hello from compose', sessionKey, mode: 'sync', timeoutMs: 180_000 },
        { authorization: `Bearer ${TOKEN}` },
      );
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.equal(answer.body.status, 'completed');
      // turn.delta is live only: it can only have come from the worker's POST to the API.
      await eventually('a live turn.delta', () => live.some((event) => event.type === 'turn.delta'), 60_000);
      await eventually('turn.completed pushed', () => live.some((event) => event.type === 'turn.completed'), 60_000);
    } finally {
      await rpc.close();
    }
  });
});
