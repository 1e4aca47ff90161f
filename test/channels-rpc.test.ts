// channels.* over the WebSocket API and the CLI, /readyz with a required channel, and the
// adapter's scoped token: it opens /rpc even on a gateway with a token, may call only the
// adapter methods on its own channel's sessions, and gets -32020 for anything else.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { RpcClient, RpcConnectError, RpcResponseError } from '../client/rpc-client.js';
import { startFakeAnthropic, type FakeAnthropic } from './support/fake-anthropic.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';
import { switchyardArgv } from './support/processes.js';
import { parsePrometheusText, sampleValue } from './support/prom-text.js';

const TOKEN = 'channels-test-token-81c2';
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 60_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

async function rpcError(call: Promise<unknown>): Promise<RpcResponseError> {
  try {
    await call;
  } catch (error) {
    assert.ok(error instanceof RpcResponseError, String(error));
    return error;
  }
  assert.fail('the call succeeded');
}

let fake: FakeAnthropic;
let gateway: TestGateway;
let operator: RpcClient;
let dir: string;

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'switchyard-channels-rpc-'));
  // Writes the token it was given where the test can read it, then idles until SIGTERM.
  writeFileSync(
    path.join(dir, 'spy.mjs'),
    `import { writeFileSync } from 'node:fs';
     process.on('SIGTERM', () => process.exit(0));
     writeFileSync(process.env.SWITCHYARD_CHANNEL_STATE + '/token', process.env.SWITCHYARD_TOKEN);
     console.log('spy ready on ' + process.env.SWITCHYARD_CHANNEL);
     setInterval(() => {}, 1000);`,
  );
  writeFileSync(path.join(dir, 'fail.mjs'), `console.error('cannot work'); process.exit(1);`);
  fake = await startFakeAnthropic();
  gateway = await startTestGateway({
    fake,
    worker: false,
    token: TOKEN,
    config: {
      channels: {
        spy: { command: process.execPath, args: [path.join(dir, 'spy.mjs')], required: true },
        broken: { command: process.execPath, args: [path.join(dir, 'fail.mjs')], autostart: false, restart: { policy: 'never' } },
      },
    },
  });
  operator = await RpcClient.connect(gateway.rpcUrl, { token: TOKEN });
});
after(async () => {
  await operator?.close();
  await gateway?.close();
  await fake?.close();
  rmSync(dir, { recursive: true, force: true });
});

const readyz = async () => (await (await fetch(`${gateway.url}/readyz`)).json()) as { checks: { channels: { ok: boolean; detail: string } } };

describe('channels.* methods', () => {
  test('channels.list: name, state, pid, startedAt, uptime, restarts, lastExit, required, autostart', async () => {
    const spy = await waitFor('spy running', async () => (await operator.call('channels.list')).channels.find((c) => c.name === 'spy' && c.state === 'running'));
    assert.equal(typeof spy.pid, 'number');
    assert.equal(typeof spy.startedAt, 'number');
    assert.equal(typeof spy.uptimeMs, 'number');
    assert.equal(spy.restarts, 0);
    assert.equal(spy.lastExit, null);
    assert.equal(spy.required, true);
    assert.equal(spy.autostart, true);
    const broken = (await operator.call('channels.list')).channels.find((c) => c.name === 'broken')!;
    assert.deepEqual(
      { state: broken.state, pid: broken.pid, startedAt: broken.startedAt, uptimeMs: broken.uptimeMs, autostart: broken.autostart, required: broken.required },
      { state: 'stopped', pid: null, startedAt: null, uptimeMs: null, autostart: false, required: false },
    );
  });

  test('start, logs, restart, stop; an unknown channel is -32021', async () => {
    await operator.call('channels.start', { name: 'broken' });
    const crashed = await waitFor('broken crashed', async () => (await operator.call('channels.list')).channels.find((c) => c.name === 'broken' && c.state === 'crashed'));
    assert.equal(crashed.lastExit?.code, 1);
    const brokenLogs = await operator.call('channels.logs', { name: 'broken', stream: 'stderr' });
    assert.deepEqual(brokenLogs.lines.map((l) => l.line), ['cannot work']);
    assert.match(brokenLogs.logFile, /logs\/channels\/broken\.log$/);

    const before = await waitFor('spy logs', async () => (await operator.call('channels.logs', { name: 'spy' })).lines.find((l) => l.line === 'spy ready on spy'));
    assert.equal(before.stream, 'stdout');
    const first = (await operator.call('channels.list')).channels.find((c) => c.name === 'spy')!;
    const restarted = await operator.call('channels.restart', { name: 'spy' });
    assert.equal(restarted.state, 'running');
    assert.notEqual(restarted.pid, first.pid);
    assert.equal(restarted.lastExit?.code, 0, 'the old process exited on SIGTERM');

    const unknown = await rpcError(operator.call('channels.stop', { name: 'nope' }));
    assert.equal(unknown.code, -32021);
    assert.deepEqual((unknown.data as { channels: string[] }).channels.sort(), ['broken', 'spy']);
  });

  test('/metrics shows each channel\'s state', async () => {
    const metric = async () => parsePrometheusText(await (await fetch(`${gateway.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text());
    await waitFor('spy running in /metrics', async () => sampleValue(await metric(), 'switchyard_channel_state', { channel: 'spy', state: 'running' }) === 1);
    const families = await metric();
    assert.equal(sampleValue(families, 'switchyard_channel_state', { channel: 'broken', state: 'crashed' }), 1);
    assert.equal(sampleValue(families, 'switchyard_channel_state', { channel: 'broken', state: 'running' }), 0);
  });

  test('a required channel that is not running makes /readyz say so', async () => {
    await waitFor('spy ready', async () => (await readyz()).checks.channels.ok);
    const stopped = await operator.call('channels.stop', { name: 'spy', graceMs: 2000 });
    assert.equal(stopped.state, 'stopped');
    const down = await readyz();
    assert.equal(down.checks.channels.ok, false);
    assert.match(down.checks.channels.detail, /spy \(stopped\)/);
    await operator.call('channels.start', { name: 'spy' });
    await waitFor('ready again', async () => (await readyz()).checks.channels.ok);
  });
});

describe('the adapter token', () => {
  let adapter: RpcClient;
  const tokenFile = () => path.join(gateway.workDir, 'channels', 'spy', 'token');

  before(async () => {
    await waitFor('the token file', () => existsSync(tokenFile()) && readFileSync(tokenFile(), 'utf8').length > 10);
    adapter = await RpcClient.connect(gateway.rpcUrl, { token: readFileSync(tokenFile(), 'utf8') });
  });
  after(async () => {
    await adapter?.close();
  });

  test('opens /rpc on a gateway with its own token, and may call the adapter methods', async () => {
    assert.equal((await adapter.call('gateway.health')).ok, true);
    const own = await adapter.call('sessions.subscribe', { sessionKey: 'agent:main:spy:alice' });
    assert.equal(own.sessionKey, 'agent:main:spy:alice');
    await adapter.call('sessions.unsubscribe', { subscription: own.subscription });
    const missing = await rpcError(adapter.call('sessions.get', { sessionKey: 'agent:main:spy:nobody-here' }));
    assert.equal(missing.code, -32001, 'allowed, and the session does not exist');
  });

  test('anything else is -32020 Forbidden', async () => {
    const refused: [string, unknown][] = [
      ['config.get', {}],
      ['gateway.status', {}],
      ['channels.list', {}],
      ['channels.stop', { name: 'spy' }],
      ['channels.restart', { name: 'spy' }],
      ['sessions.list', {}],
      ['sessions.cancel', { sessionKey: 'agent:main:spy:alice' }],
      ['sessions.subscribe', { sessionKey: '*' }],
      ['sessions.subscribe', { sessionKey: 'agent:main:main' }],
      ['sessions.history', { sessionKey: 'agent:main:other:alice' }],
      ['sessions.send', { message: 'hi', channel: 'broken', peer: 'alice' }],
      ['sessions.send', { message: 'hi', sessionKey: 'agent:main:main' }],
      ['cron.list', {}],
    ];
    for (const [method, params] of refused) {
      const error = await rpcError(adapter.call(method, params));
      assert.equal(error.code, -32020, `${method} ${JSON.stringify(params)}`);
      assert.equal(error.message, 'Forbidden');
      assert.equal((error.data as { method: string; scope: string; channel: string }).scope, 'adapter');
      assert.equal((error.data as { channel: string }).channel, 'spy');
    }
    assert.equal((await operator.call('channels.list')).channels.find((c) => c.name === 'spy')?.state, 'running', 'the adapter could not stop itself');
    const unknown = await rpcError(adapter.call('no.such.method', {}));
    assert.equal(unknown.code, -32601);
  });

  test('a made-up token is refused at the upgrade; the gateway token still calls everything', async () => {
    await assert.rejects(RpcClient.connect(gateway.rpcUrl, { token: 'swc_made-up' }), (error) => error instanceof RpcConnectError && error.status === 401);
    assert.equal(typeof (await operator.call('config.get', { path: 'gateway.port' })).config, 'number');
  });
});

describe('switchyard channels', () => {
  const cli = (...args: string[]) =>
    promisify(execFile)(process.execPath, switchyardArgv('channels', ...args, '--url', gateway.rpcUrl, '--token', TOKEN), { cwd: dir, env: { ...process.env, SWITCHYARD_HOME: dir } });

  test('list --json, a table, restart and logs', async () => {
    const listed = JSON.parse((await cli('list', '--json')).stdout) as { channels: { name: string; state: string }[] };
    assert.deepEqual(listed.channels.map((c) => c.name).sort(), ['broken', 'spy']);
    const table = (await cli('list')).stdout;
    assert.match(table, /^NAME\s+STATE\s+PID\s+UPTIME\s+RESTARTS\s+LAST EXIT\s+REQUIRED\s+ADAPTER/m);
    assert.match(table, /^spy\s+running\s+\d+/m);
    assert.match((await cli('restart', 'spy')).stdout, /^spy: running \(pid \d+\)/);
    const logs = await waitFor('logs after restart', async () => {
      const out = (await cli('logs', 'spy', '-n', '5')).stdout;
      return /OUT spy ready on spy/.test(out) ? out : undefined;
    });
    assert.match(logs, /more in .*spy\.log/);
    await assert.rejects(cli('stop', 'nope'), (error: { code?: number; stderr?: string }) => error.code === 1 && /-32021/.test(error.stderr ?? ''));
  });
});
