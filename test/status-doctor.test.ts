// `switchyard status` and `switchyard doctor` end to end: the real CLI in a child process
// against a real gateway (API, worker, Temporal, the claude CLI on the fake API).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import YAML from 'yaml';
import { renderStatus, type StatusReport } from '../cli/commands/status.js';
import { parseEnvFile, renderChecks, scrub } from '../cli/commands/doctor.js';
import { check } from '../cli/doctor/checks.js';
import { listeningInodes } from '../cli/doctor/port-holder.js';
import { claudeEnv, startFakeAnthropic, type FakeAnthropic } from './support/fake-anthropic.js';
import { CLAUDE_BIN, startTestGateway, uniqueScope, type TestGateway } from './support/gateway.js';
import { freePort, switchyardArgv } from './support/processes.js';
import { eventually, outcomeOf, sendMessage } from './support/sessions.js';

const TOKEN = 'status-doctor-token-5c2a9';

let fake: FakeAnthropic;
let gateway: TestGateway;
let tmp: string;

before(async () => {
  fake = await startFakeAnthropic();
  gateway = await startTestGateway({ fake, token: TOKEN });
  tmp = mkdtempSync(path.join(tmpdir(), 'switchyard-ops-'));
});
after(async () => {
  await gateway?.close();
  await fake?.close();
  rmSync(tmp, { recursive: true, force: true });
});

/** A project directory whose switchyard.yaml describes the test gateway (as an operator's would). */
function project(name: string, overrides: { temporalAddress?: string } = {}): string {
  const dir = path.join(tmp, name);
  const home = path.join(dir, 'home');
  rmSync(dir, { recursive: true, force: true });
  const config = {
    gateway: { bind: '127.0.0.1', port: Number(new URL(gateway.url).port) },
    temporal: { address: overrides.temporalAddress ?? gateway.config.temporal.address, namespace: gateway.config.temporal.namespace },
    agentDefaults: { command: CLAUDE_BIN, env: claudeEnv(fake, path.join(dir, 'claude-config')) },
  };
  mkdirSync(home, { recursive: true });
  writeFileSync(path.join(dir, 'switchyard.yaml'), YAML.stringify(config));
  return dir;
}

async function run(args: string[], cwd: string, env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    SWITCHYARD_HOME: path.join(cwd, 'home'),
    // the service check looks here, not at the real ~/.config
    XDG_CONFIG_HOME: path.join(cwd, 'xdg'),
    ...env,
  };
  for (const name of Object.keys(childEnv)) if (name.startsWith('SWITCHYARD_') && !(name in env) && name !== 'SWITCHYARD_HOME') delete childEnv[name];
  for (const name of ['ANTHROPIC_API_KEY', 'CLAUDE_CODE_OAUTH_TOKEN', 'ANTHROPIC_AUTH_TOKEN']) if (!(name in env)) delete childEnv[name];
  const child = spawn(process.execPath, switchyardArgv(...args), { cwd, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { code, stdout, stderr };
}

describe('switchyard status', () => {
  test('one screen: ready, Temporal, worker, sessions by state, schedules, channels', async () => {
    const sessionKey = `agent:main:${uniqueScope('status')}`;
    const sent = await sendMessage(gateway, { message: 'hello', sessionKey }, { authorization: `Bearer ${TOKEN}` });
    await outcomeOf(gateway, sessionKey, sent.messageId);
    // sessions.list reads Temporal visibility, which lags a little behind.
    await eventually('the session in sessions.list', async () => (await gateway.api.sessions.list({ limit: 200 })).sessions.some((session) => session.sessionKey === sessionKey));

    const dir = project('status');
    const json = await run(['status', '--json'], dir, { SWITCHYARD_TOKEN: TOKEN });
    assert.equal(json.code, 0, json.stderr);
    const report = JSON.parse(json.stdout);
    assert.equal(report.reachable, true);
    assert.equal(report.gateway.ready, true);
    assert.equal(report.gateway.checks.worker.ok, true);
    assert.equal(report.sessions.ok, true);
    assert.ok(report.sessions.value.total >= 1);
    assert.ok(Object.values(report.sessions.value.byState as Record<string, number>).reduce((a, b) => a + b, 0) === report.sessions.value.total);
    assert.equal(report.schedules.ok, true);
    assert.ok('channels' in report);
    assert.ok(!json.stdout.includes(TOKEN));

    const text = await run(['status', '--url', gateway.rpcUrl, '--token', TOKEN], dir);
    assert.equal(text.code, 0, text.stderr);
    const lines = text.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^gateway\s+ws:\/\/127\.0\.0\.1:\d+\/rpc\s+ready/);
    for (const label of ['temporal', 'worker', 'sessions', 'schedules', 'channels', 'clients']) {
      assert.ok(lines.some((line) => line.startsWith(label)), `no ${label} line in:\n${text.stdout}`);
    }
    assert.match(text.stdout, /^temporal\s+ok/m);
    assert.match(text.stdout, /^sessions\s+\d+ open: /m);
    assert.ok(lines.length <= 24, 'one screen');
  });

  test('a gateway that is not there: exit 3 and what to do', async () => {
    const port = await freePort();
    const result = await run(['status', '--url', `ws://127.0.0.1:${port}/rpc`], project('status-down'));
    assert.equal(result.code, 3);
    assert.match(result.stderr, /not reachable.*switchyard start/);
  });

  test('the rendering of a gateway without channels.list, and of sessions beyond one page', () => {
    const report: StatusReport = {
      url: 'ws://127.0.0.1:8420/rpc',
      gateway: {
        version: '0.1.0',
        node: 'v20.0.0',
        pid: 42,
        startedAt: 0,
        uptimeMs: 3_720_000,
        ready: false,
        temporal: { address: '127.0.0.1:7233', namespace: 'default', reachable: true, detail: 'reachable' },
        checks: { temporal: { ok: true, detail: 'reachable' }, worker: { ok: false, detail: 'no worker polling switchyard-agents' }, channels: { ok: true, detail: 'none' } },
        rpc: { connections: 1, subscriptions: 0 },
      },
      sessions: { ok: true, value: { total: 200, byState: { idle: 150, running: 50 }, more: true } },
      schedules: { ok: true, value: { total: 2, byState: { active: 1, paused: 1 }, next: { name: 'nightly', at: '2030-01-01T03:00:00.000Z' } } },
      channels: { ok: false, unsupported: true, error: 'not supported by this gateway' },
    };
    const text = renderStatus(report);
    assert.match(text, /^gateway .* NOT READY .*up 1h 2m/m);
    assert.match(text, /^worker\s+FAIL\s+no worker polling switchyard-agents$/m);
    assert.match(text, /^sessions\s+200\+ open: 150 idle, 50 running \(first 200 counted\)$/m);
    assert.match(text, /^schedules 2: 1 active, 1 paused; next nightly at 2030-01-01T03:00:00.000Z$/m);
    assert.match(text, /^channels\s+not supported by this gateway$/m);
    const withChannels = renderStatus({ ...report, channels: { ok: true, value: [{ name: 'slack', state: 'running', pid: 7, restarts: 1 }] } });
    assert.match(withChannels, /^channels\s+ok\s+slack running \(pid 7, 1 restart\)$/m);
  });
});

describe('switchyard doctor', () => {
  test('everything up: every check passes, exit 0, and no secret is printed', async () => {
    const dir = project('doctor-ok');
    const result = await run(['doctor', '--json'], dir, { SWITCHYARD_TOKEN: TOKEN });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const report = JSON.parse(result.stdout) as { ok: boolean; checks: Array<{ name: string; status: string; detail: string; fix?: string }> };
    assert.equal(report.ok, true);
    const byName = new Map(report.checks.map((each) => [each.name, each]));
    for (const name of ['config', 'claude CLI', 'credentials (main)', 'gateway API', 'temporal', 'workers']) {
      assert.equal(byName.get(name)?.status, 'ok', `${name}: ${JSON.stringify(byName.get(name))}`);
    }
    assert.match(byName.get('credentials (main)')!.detail, /api_key from ANTHROPIC_API_KEY/);
    assert.equal(byName.get('temporal CLI')?.status, 'skip', 'an external Temporal needs no temporal CLI');
    assert.equal(byName.get(`port ${new URL(gateway.url).port}`)?.status, 'ok', 'the port is held by the gateway itself');
    assert.match(byName.get(`port ${new URL(gateway.url).port}`)!.detail, /running gateway|gateway answering there/);
    assert.equal(byName.get('service')?.status, 'warn');
    assert.ok(!result.stdout.includes(TOKEN), 'the gateway token is never printed');
    assert.ok(!result.stdout.includes('sk-ant-fake-key-for-tests'), 'the API key is never printed');
  });

  test('Temporal unreachable: the check fails with a fix line and doctor exits non-zero', async () => {
    const closed = await freePort();
    const dir = project('doctor-down', { temporalAddress: `127.0.0.1:${closed}` });
    const result = await run(['doctor', '--timeout', '2000'], dir, { SWITCHYARD_TOKEN: TOKEN });
    assert.equal(result.code, 1, result.stdout + result.stderr);
    const lines = result.stdout.split('\n');
    const failed = lines.findIndex((line) => /^FAIL\s+temporal\s/.test(line));
    assert.ok(failed >= 0, result.stdout);
    assert.match(lines[failed]!, new RegExp(`127\\.0\\.0\\.1:${closed} unreachable`));
    assert.match(lines[failed + 1]!, /^\s+fix: .*Temporal server at 127\.0\.0\.1:\d+/);
    assert.match(result.stdout, /^skip\s+workers\s+unknown: Temporal is unreachable/m);
    assert.match(result.stdout, /check(s)? failed$/m);
    assert.ok(!result.stdout.includes(TOKEN));
  });

  test('a port held by another process is named, with the key to change', async () => {
    // Holds the port and hangs up on whoever connects (doctor's gateway API probe), so close() does not wait.
    const server = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as net.AddressInfo).port;
      const dir = project('doctor-port');
      const result = await run(['doctor', '--json', '--port', String(port), '--timeout', '2000'], dir);
      assert.equal(result.code, 1, result.stdout + result.stderr);
      const held = (JSON.parse(result.stdout).checks as Array<{ name: string; status: string; detail: string; fix?: string }>).find((each) => each.name === `port ${port}`);
      assert.equal(held?.status, 'fail', JSON.stringify(held));
      if (process.platform === 'linux') assert.match(held!.detail, new RegExp(`held by pid ${process.pid} `));
      assert.match(held!.fix!, /--set gateway\.port=<port>/);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test('an invalid config fails the config check and says how to fix it', async () => {
    const dir = project('doctor-invalid');
    const result = await run(['doctor', '--set', 'gateway.port=-1'], dir);
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stdout, /^FAIL\s+config\s+invalid: .*gateway\.port/m);
    assert.match(result.stdout, /fix: .*switchyard config --explain/);
  });

  test('without a credential the agent check fails, named by agent', async () => {
    const dir = project('doctor-nocred');
    const config = YAML.parse(readFileSync(path.join(dir, 'switchyard.yaml'), 'utf8'));
    delete config.agentDefaults.env.ANTHROPIC_API_KEY;
    writeFileSync(path.join(dir, 'switchyard.yaml'), YAML.stringify(config));
    const result = await run(['doctor', '--json'], dir, { SWITCHYARD_TOKEN: TOKEN });
    assert.equal(result.code, 1);
    const credentials = (JSON.parse(result.stdout).checks as Array<{ name: string; status: string; fix?: string }>).find((each) => each.name === 'credentials (main)');
    assert.equal(credentials?.status, 'fail');
    assert.match(credentials!.fix!, /ANTHROPIC_API_KEY/);
  });

  test('rendering, scrubbing and the /proc listener table', () => {
    const text = renderChecks([check('a', 'ok', 'fine'), check('bb', 'fail', 'broken', 'do this'), check('c', 'warn', 'hmm', 'maybe that')]);
    assert.match(text, /^ok    a   fine$/m);
    assert.match(text, /^FAIL  bb  broken\n\s+fix: do this$/m);
    assert.match(text, /1 check failed\n$/);
    assert.equal(check('x', 'ok', 'y', 'never shown').fix, undefined);
    assert.equal(scrub('token=abcd1234 and abcd1234', ['abcd1234']), 'token=[redacted] and [redacted]');
    assert.deepEqual(parseEnvFile('# secrets\nANTHROPIC_API_KEY=sk-ant-1\nexport NOTE="a b"\n'), { ANTHROPIC_API_KEY: 'sk-ant-1', NOTE: 'a b' });
    const table = [
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 0100007F:20E4 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 1 0000000000000000 100 0 0 10 0',
      '   1: 0100007F:20E4 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 99999 1 0000000000000000 100 0 0 10 0',
    ].join('\n');
    assert.deepEqual([...listeningInodes([table], 8420)], ['12345']);
    assert.deepEqual([...listeningInodes([table], 8421)], []);
  });
});
