// The channel manager on its own, with tiny node scripts as adapters: restart policies with
// backoff and jitter, the per-hour limit and crash-loop breaker, graceful stop (SIGTERM, then
// SIGKILL), the ring buffer and rotated log files, the environment an adapter gets,
// readiness, and hot reload (only a changed channel restarts; an invalid config is refused).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ChannelConfigWatcher } from '../channels/config-watch.js';
import { ChannelManager, type ChannelView } from '../channels/manager.js';
import { ChannelSchema, type ChannelConfig } from '../config/channel-schema.js';
import { loadConfig } from '../config/load.js';
import { ConfigSchema } from '../config/schema.js';
import { createLogger } from '../observability/logger.js';
import { SupervisedChild } from '../supervisor/child-process.js';
import { processRunning } from '../supervisor/processes.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 30_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

const SCRIPTS: Record<string, string> = {
  // Lives until SIGTERM (exit 0); prints its environment's channel variables.
  'steady.mjs': `
    process.on('SIGTERM', () => process.exit(0));
    console.log('steady up ' + JSON.stringify({ url: process.env.SWITCHYARD_URL, channel: process.env.SWITCHYARD_CHANNEL, agent: process.env.SWITCHYARD_AGENT, hasToken: (process.env.SWITCHYARD_TOKEN ?? '').startsWith('swc_'), leaked: process.env.SWITCHYARD_SECRET_THING ?? null, extra: process.env.EXTRA ?? null }));
    setInterval(() => {}, 1000);
  `,
  // Exits at once with the code in argv[2].
  'exit.mjs': `console.error('exiting with ' + process.argv[2]); process.exit(Number(process.argv[2]));`,
  // Ignores SIGTERM.
  'stubborn.mjs': `
    process.on('SIGTERM', () => console.log('ignoring SIGTERM'));
    console.log('ready');
    setInterval(() => {}, 1000);
  `,
  // Prints argv[2] numbered lines of 100 bytes, then lives.
  'chatty.mjs': `
    const n = Number(process.argv[2]);
    for (let i = 0; i < n; i++) console.log(String(i).padStart(5, '0') + ' ' + 'x'.repeat(93));
    process.on('SIGTERM', () => process.exit(0));
    setInterval(() => {}, 1000);
  `,
};

let dir: string;
const managers: ChannelManager[] = [];
const logger = createLogger({ name: 'test', level: 'silent' });

function channel(script: string, extra: Record<string, unknown> = {}, scriptArgs: string[] = []): ChannelConfig {
  return ChannelSchema.parse({ command: process.execPath, args: [path.join(dir, script), ...scriptArgs], ...extra });
}

async function manager(channels: Record<string, ChannelConfig>, home = mkdtempSync(path.join(dir, 'home-'))): Promise<ChannelManager> {
  const made = new ChannelManager({
    channels,
    home,
    baseDir: dir,
    logger,
    env: { ...process.env, SWITCHYARD_SECRET_THING: 'must-not-pass', EXTRA: 'from-gateway' },
  });
  managers.push(made);
  await made.start('ws://127.0.0.1:1/rpc');
  return made;
}

const FAST = { initialDelay: '20ms', maxDelay: '100ms', jitter: 0 };

before(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'switchyard-channels-'));
  for (const [name, text] of Object.entries(SCRIPTS)) writeFileSync(path.join(dir, name), text);
});
after(async () => {
  for (const made of managers) await made.stopAll();
  rmSync(dir, { recursive: true, force: true });
});

describe('config', () => {
  test('a channel needs exactly one of command or adapter; durations and policies are checked', () => {
    assert.equal(ConfigSchema.safeParse({ channels: { a: { command: 'x' } } }).success, true);
    assert.equal(ConfigSchema.safeParse({ channels: { a: { adapter: 'terminal-chat' } } }).success, true);
    assert.match(JSON.stringify(ConfigSchema.safeParse({ channels: { a: {} } }).error?.issues), /give command/);
    assert.match(JSON.stringify(ConfigSchema.safeParse({ channels: { a: { command: 'x', adapter: 'terminal-chat' } } }).error?.issues), /not both/);
    assert.equal(ConfigSchema.safeParse({ channels: { a: { command: 'x', restart: { policy: 'sometimes' } } } }).success, false);
    assert.equal(ConfigSchema.safeParse({ channels: { a: { command: 'x', restart: { initialDelay: '5s', maxDelay: '1s' } } } }).success, false);
    assert.equal(ConfigSchema.safeParse({ channels: { a: { command: 'x', nope: 1 } } }).success, false, 'strict');
    assert.equal(ConfigSchema.safeParse({ channels: { 'a.b': { command: 'x' } } }).success, false, 'names without dots');
    assert.match(JSON.stringify(ConfigSchema.safeParse({ channels: { a: { command: 'x', agent: 'ghost' } } }).error?.issues), /unknown agent .{1,2}ghost/);
    assert.equal(ConfigSchema.safeParse({ agents: { ghost: {} }, channels: { a: { command: 'x', agent: 'ghost' } } }).success, true);
  });

  test('${VAR} in a channel is interpolated when the file loads, and secret-looking env values are redacted', async () => {
    const cwd = mkdtempSync(path.join(dir, 'interp-'));
    writeFileSync(path.join(cwd, 'switchyard.yaml'), 'channels:\n  slack:\n    command: ${ADAPTER_BIN}\n    env:\n      SLACK_TOKEN: ${SLACK_TOKEN}\n      CHANNEL_ID: C123\n');
    const loaded = loadConfig({ cwd, env: { HOME: cwd, SWITCHYARD_HOME: cwd, ADAPTER_BIN: '/usr/bin/slack-adapter', SLACK_TOKEN: 'xoxb-secret' } });
    assert.equal(loaded.config.channels.slack?.command, '/usr/bin/slack-adapter');
    assert.equal(loaded.config.channels.slack?.env.SLACK_TOKEN, 'xoxb-secret');
    const { redactConfig } = await import('../config/redact.js');
    const redacted = redactConfig(loaded.config) as { channels: { slack: { env: Record<string, string> } } };
    assert.equal(redacted.channels.slack.env.SLACK_TOKEN, '[redacted]');
    assert.equal(redacted.channels.slack.env.CHANNEL_ID, 'C123');
  });
});

describe('restart policies', () => {
  test('backoff grows by the factor and jitter spreads it', async () => {
    const delays: number[] = [];
    const child = new SupervisedChild({
      name: 'jitter',
      command: process.execPath,
      args: [path.join(dir, 'exit.mjs'), '1'],
      restart: { initialDelayMs: 20, factor: 2, maxDelayMs: 1000, jitter: 0.5, random: () => 1, crashLoop: { maxRestarts: 3, windowMs: 3_600_000 } },
    });
    child.on('restart', (_attempt, delayMs) => delays.push(delayMs));
    child.start();
    await waitFor('crashed', () => child.state === 'crashed');
    // random() = 1 with jitter 0.5: 150% of 20, 40, 80.
    assert.deepEqual(delays, [30, 60, 120]);
  });

  test('on-failure restarts a failing adapter, with growing delays, and leaves a clean exit stopped', async () => {
    const made = await manager({
      failing: channel('exit.mjs', { restart: { ...FAST, policy: 'on-failure', maxPerHour: 3 } }, ['3']),
      clean: channel('exit.mjs', { restart: { ...FAST, policy: 'on-failure' } }, ['0']),
    });
    const crashed = await waitFor('the breaker', () => made.list().find((view) => view.name === 'failing' && view.state === 'crashed'));
    assert.equal(crashed.restarts, 3);
    assert.deepEqual(crashed.lastExit && { code: crashed.lastExit.code, signal: crashed.lastExit.signal }, { code: 3, signal: null });
    assert.match(crashed.reason ?? '', /crash-looping: 3 restarts/);
    const clean = await waitFor('clean exit', () => made.list().find((view) => view.name === 'clean' && view.lastExit !== null));
    await sleep(200);
    assert.equal(made.get('clean').state, 'stopped');
    assert.equal(made.get('clean').restarts, 0);
    assert.equal(clean.lastExit?.code, 0);
  });

  test('always restarts even a clean exit; never leaves a failure crashed', async () => {
    const made = await manager({
      always: channel('exit.mjs', { restart: { ...FAST, policy: 'always', maxPerHour: 2 } }, ['0']),
      never: channel('exit.mjs', { restart: { ...FAST, policy: 'never' } }, ['1']),
    });
    await waitFor('always: breaker after 2 restarts', () => made.get('always').state === 'crashed');
    assert.equal(made.get('always').restarts, 2);
    await waitFor('never: crashed', () => made.get('never').state === 'crashed');
    assert.equal(made.get('never').restarts, 0);
  });

  test('the crash-loop breaker says so, and channels start resets it', async () => {
    const made = await manager({ loop: channel('exit.mjs', { restart: { ...FAST, maxPerHour: 1 } }, ['1']) });
    await waitFor('crashed', () => made.get('loop').state === 'crashed');
    assert.match(made.get('loop').reason ?? '', /crash-looping/);
    const readFile = () => readFileSync(made.get('loop').logFile, 'utf8');
    await waitFor('the log says so', () => /crashed: loop is crash-looping/.test(readFile()));
    await made.startChannel('loop');
    await waitFor('a restart after the manual start', () => made.get('loop').restarts === 1 || made.get('loop').state === 'crashed');
    await waitFor('crashed again', () => made.get('loop').state === 'crashed');
  });
});

describe('stop', () => {
  test('SIGTERM stops a well-behaved adapter; one that ignores it gets SIGKILL after the grace period', async () => {
    const made = await manager({
      steady: channel('steady.mjs'),
      stubborn: channel('stubborn.mjs', { stopGrace: '300ms' }),
    });
    // Stopped only once each has said it is up, i.e. its SIGTERM handler is in place.
    const steady = await waitFor('steady up', () => made.logs('steady').lines.some((l) => l.line.startsWith('steady up ')) && made.get('steady').pid);
    const stubborn = await waitFor('stubborn ready', () => made.logs('stubborn').lines.some((l) => l.line === 'ready') && made.get('stubborn').pid);
    const [a, b] = await Promise.all([made.stopChannel('steady'), made.stopChannel('stubborn')]);
    assert.equal(a.state, 'stopped');
    assert.deepEqual(a.lastExit && [a.lastExit.code, a.lastExit.signal], [0, null]);
    assert.equal(b.state, 'stopped');
    assert.deepEqual(b.lastExit && [b.lastExit.code, b.lastExit.signal], [null, 'SIGKILL']);
    assert.ok(made.logs('stubborn').lines.some((l) => l.line === 'ignoring SIGTERM'));
    assert.equal(processRunning(steady as number), false);
    assert.equal(processRunning(stubborn as number), false);
    await sleep(200);
    assert.equal(made.get('steady').state, 'stopped', 'a stop is not followed by a restart');
  });

  test('restart gives a new process; stop then start works; an unknown name throws', async () => {
    const made = await manager({ steady: channel('steady.mjs') });
    const first = await waitFor('running', () => made.get('steady').pid ?? undefined);
    const restarted = await made.restartChannel('steady');
    assert.equal(restarted.state, 'running');
    assert.notEqual(restarted.pid, first);
    assert.throws(() => made.get('nope'), /no channel "nope"/);
  });
});

describe('environment, logs and readiness', () => {
  test("the adapter gets the URL, its token, its channel and agent, the channel's env, and none of the gateway's SWITCHYARD_* variables", async () => {
    const made = await manager({ envy: channel('steady.mjs', { env: { EXTRA: 'from-channel' }, agent: 'main' }) });
    const line = await waitFor('output', () => made.logs('envy').lines.find((l) => l.line.startsWith('steady up '))?.line);
    assert.deepEqual(JSON.parse(line.slice('steady up '.length)), {
      url: 'ws://127.0.0.1:1/rpc',
      channel: 'envy',
      agent: 'main',
      hasToken: true,
      leaked: null,
      extra: 'from-channel',
    });
  });

  test('the ring buffer keeps the newest lines; the file rotates by size and keeps `keep` old files', async () => {
    const made = await manager({ chatty: channel('chatty.mjs', { logs: { lines: 5, maxBytes: 2048, keep: 2 } }, ['100']) });
    await waitFor('100 lines', () => made.logs('chatty').lines.at(-1)?.line.startsWith('00099'));
    assert.deepEqual(
      made.logs('chatty').lines.map((l) => l.line.slice(0, 5)),
      ['00095', '00096', '00097', '00098', '00099'],
    );
    assert.deepEqual(made.logs('chatty', { lines: 2 }).lines.map((l) => l.line.slice(0, 5)), ['00098', '00099']);
    assert.deepEqual(made.logs('chatty', { stream: 'stderr' }).lines, []);
    await made.stopChannel('chatty');
    const file = made.get('chatty').logFile;
    await waitFor('rotated files', () => existsSync(`${file}.1`) && existsSync(`${file}.2`));
    assert.equal(existsSync(`${file}.3`), false, 'only keep=2 rotated files');
    for (const each of [file, `${file}.1`, `${file}.2`]) assert.ok(statSync(each).size <= 2048 + 200, `${each} is bounded`);
    const newest = readFileSync(file, 'utf8') + readFileSync(`${file}.1`, 'utf8');
    assert.match(newest, /00099 x/);
  });

  test('required channels count toward readiness', async () => {
    const made = await manager({
      needed: channel('exit.mjs', { required: true, restart: { ...FAST, policy: 'never' } }, ['1']),
      optional: channel('exit.mjs', { restart: { ...FAST, policy: 'never' } }, ['1']),
    });
    await waitFor('crashed', () => made.get('needed').state === 'crashed');
    const check = made.readiness();
    assert.equal(check.ok, false);
    assert.match(check.detail, /needed \(crashed\)/);
    assert.doesNotMatch(check.detail, /optional/);
    const fine = await manager({ needed: channel('steady.mjs', { required: true }) });
    await waitFor('ready', () => fine.readiness().ok);
  });

  test('each adapter has its own token, and only its token names it', async () => {
    const made = await manager({ one: channel('steady.mjs'), two: channel('steady.mjs') });
    await waitFor('both running', () => made.list().every((view: ChannelView) => view.state === 'running'));
    assert.equal(made.principalOf('swc_not-a-token'), undefined);
  });
});

describe('hot reload', () => {
  test('a changed channel restarts, the others keep their process; added ones start, removed ones stop', async () => {
    const made = await manager({ a: channel('steady.mjs'), b: channel('steady.mjs'), gone: channel('steady.mjs') });
    const pids = await waitFor('all running', () => {
      const views = made.list();
      return views.every((view) => view.pid !== null) ? Object.fromEntries(views.map((view) => [view.name, view.pid])) : undefined;
    });
    const result = await made.apply({
      a: channel('steady.mjs'),
      b: channel('steady.mjs', { env: { EXTRA: 'changed' } }),
      c: channel('steady.mjs'),
    });
    assert.deepEqual(result, { added: ['c'], removed: ['gone'], changed: ['b'], unchanged: ['a'] });
    assert.equal(made.get('a').pid, pids.a, 'a kept its process');
    const b = await waitFor('b restarted', () => made.get('b').pid ?? undefined);
    assert.notEqual(b, pids.b);
    await waitFor('c started', () => made.get('c').state === 'running');
    assert.deepEqual(made.names().sort(), ['a', 'b', 'c']);
    assert.equal(processRunning(pids.gone as number), false, 'the removed channel was stopped');
  });

  test('the watcher applies a changed file, and refuses an invalid one: the running config stays', async () => {
    const cwd = mkdtempSync(path.join(dir, 'watch-'));
    const yaml = (extra: string) =>
      `channels:\n  keep:\n    command: ${JSON.stringify(process.execPath)}\n    args: [${JSON.stringify(path.join(dir, 'steady.mjs'))}]\n  edit:\n    command: ${JSON.stringify(process.execPath)}\n    args: [${JSON.stringify(path.join(dir, 'steady.mjs'))}]\n${extra}`;
    const file = path.join(cwd, 'switchyard.yaml');
    writeFileSync(file, yaml(''));
    const env = { HOME: cwd, SWITCHYARD_HOME: path.join(cwd, 'home'), PATH: process.env.PATH };
    const load = () => loadConfig({ cwd, env });
    const made = await manager(load().config.channels);
    const logs: { level: string; msg: string }[] = [];
    const capture = createLogger({ name: 'watch', level: 'info', destination: { write: (line: string) => void logs.push(JSON.parse(line) as { level: string; msg: string }) } });
    const watcher = new ChannelConfigWatcher({ manager: made, load, files: [file], logger: capture, debounceMs: 50 }).start();
    try {
      const before = await waitFor('running', () => {
        const views = made.list();
        return views.every((view) => view.pid !== null) ? Object.fromEntries(views.map((view) => [view.name, view.pid])) : undefined;
      });

      writeFileSync(file, yaml('    stopGrace: banana\n'));
      const refused = await watcher.reload();
      assert.equal(refused.status, 'refused');
      assert.match(refused.status === 'refused' ? refused.error : '', /channels\.edit\.stopGrace/);
      assert.equal(made.get('keep').pid, before.keep);
      assert.equal(made.get('edit').pid, before.edit, 'the invalid config did not touch the running adapter');
      assert.ok(logs.some((entry) => /config reload refused/.test(entry.msg)), 'the refusal is logged');

      // Through the file watcher this time: a valid change to one channel.
      writeFileSync(file, yaml('    env: { EXTRA: edited }\n'));
      await waitFor('edit restarted', () => made.get('edit').pid !== before.edit && made.get('edit').pid !== null);
      assert.equal(made.get('keep').pid, before.keep, 'keep was not restarted');
      const line = await waitFor('new env', () => made.logs('edit').lines.map((l) => l.line).find((l) => l.includes('"extra":"edited"')));
      assert.ok(line);
    } finally {
      watcher.close();
    }
  });
});
