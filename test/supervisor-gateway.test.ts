// The gateway supervisor against a real temporal dev server (`.tools/bin/temporal`, or
// SWITCHYARD_TEMPORAL_BIN), with small fixture scripts standing in for worker/main and api/main.
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { ConfigSchema, type ConfigInput } from '../config/schema.js';
import { SEARCH_ATTRIBUTES } from '../contracts/names.js';
import { GatewayStartError, runGateway, type GatewayHandle } from '../supervisor/gateway-supervisor.js';
import { InstanceLockError } from '../supervisor/instance-lock.js';
import { devServerArgs, TemporalUnreachableError, waitForTemporal } from '../supervisor/temporal-dev-server.js';
import { projectRoot } from '../supervisor/temporal-binary.js';
import { freePort } from './support/processes.js';
import { WORKER_MALLOC_ENV } from '../supervisor/worker-malloc.js';

const execFileAsync = promisify(execFile);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const temporalBin = process.env.SWITCHYARD_TEMPORAL_BIN || path.join(projectRoot(), '.tools', 'bin', 'temporal');
const haveTemporal = existsSync(temporalBin);
const skip = haveTemporal ? false : `no temporal CLI at ${temporalBin} (run: tsx supervisor/provision-temporal.ts)`;

const FIXTURES: Record<string, string> = {
  // Stands in for worker/main: records its env and argv; drains 300 ms on SIGTERM.
  'worker.mjs': `
    import { appendFileSync } from 'node:fs';
    const events = process.env.FIXTURE_EVENTS;
    const note = (what) => appendFileSync(events, JSON.stringify({ who: 'worker', what, t: Date.now() }) + '\\n');
    note('start ' + JSON.stringify({ argv: process.argv.slice(2), token: process.env.SWITCHYARD_INTERNAL_TOKEN, supervised: process.env.SWITCHYARD_SUPERVISED, mmapThreshold: process.env.MALLOC_MMAP_THRESHOLD_ }));
    const mode = process.env.FIXTURE_WORKER_MODE ?? 'normal';
    if (mode === 'exit78') { console.error('config error: worker.maxConcurrentTurns: expected a positive integer'); process.exit(78); }
    process.on('SIGTERM', () => {
      note('sigterm');
      if (mode === 'stubborn') return;
      setTimeout(() => { note('exit'); process.exit(0); }, 300);
    });
    setInterval(() => {}, 1000);
  `,
  // Stands in for api/main: GET /healthz on the port from the forwarded --set gateway.port=N.
  'api.mjs': `
    import { appendFileSync } from 'node:fs';
    import http from 'node:http';
    const events = process.env.FIXTURE_EVENTS;
    const note = (what) => appendFileSync(events, JSON.stringify({ who: 'api', what, t: Date.now() }) + '\\n');
    note('start ' + JSON.stringify({ argv: process.argv.slice(2), mmapThreshold: process.env.MALLOC_MMAP_THRESHOLD_ }));
    const set = process.argv.slice(2).find((a) => a.startsWith('gateway.port='));
    const port = Number(set.split('=')[1]);
    const server = http.createServer((req, res) => { res.writeHead(req.url === '/healthz' ? 200 : 404); res.end('{}'); });
    server.listen(port, '127.0.0.1', () => note('listening'));
    process.on('SIGTERM', () => { note('sigterm'); server.close(() => { note('exit'); process.exit(0); }); });
  `,
};

type FixtureEvent = { who: string; what: string; t: number };

const withoutMallocTuning = (env: NodeJS.ProcessEnv) => Object.fromEntries(Object.entries(env).filter(([key]) => !key.startsWith('MALLOC_')));

describe('gateway supervisor', { skip }, () => {
  let dir: string;
  let devServer: ChildProcess | undefined;
  let devServerAddress: string;
  const handles: GatewayHandle[] = [];

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'switchyard-gw-'));
    for (const [name, text] of Object.entries(FIXTURES)) await writeFile(path.join(dir, name), text);
    // A headless dev server of our own, for the tests that use an external address.
    const port = await freePort();
    devServerAddress = `127.0.0.1:${port}`;
    devServer = spawn(temporalBin, devServerArgs({ dbFile: path.join(dir, 'external.sqlite'), port, headless: true }), {
      detached: true,
      stdio: 'ignore',
    });
    await waitForTemporal(devServerAddress, { timeoutMs: 60_000, namespace: 'default', searchAttributes: Object.values(SEARCH_ATTRIBUTES) });
  });

  after(async () => {
    for (const handle of handles) await handle.stop().catch(() => undefined);
    if (devServer?.pid) {
      try {
        process.kill(-devServer.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    await rm(dir, { recursive: true, force: true });
  });

  const setup = async (name: string, input: ConfigInput, extraEnv: NodeJS.ProcessEnv = {}) => {
    const home = path.join(dir, name);
    const events = path.join(dir, `${name}.events`);
    await writeFile(events, '');
    const port = await freePort();
    const config = ConfigSchema.parse({ ...input, gateway: { port, ...input.gateway } });
    const lines: string[] = [];
    const start = () =>
      runGateway({
        config,
        home,
        flags: ['--set', `gateway.port=${config.gateway.port}`],
        // Without the shell's own malloc tuning, which the supervisor would leave as it is.
        env: { ...withoutMallocTuning(process.env), FIXTURE_EVENTS: events, SWITCHYARD_TEMPORAL_BIN: temporalBin, ...extraEnv },
        log: (line) => lines.push(line),
        entries: { worker: path.join(dir, 'worker.mjs'), api: path.join(dir, 'api.mjs') },
        execArgv: [],
        grace: { apiMs: 2_000, workerMs: 3_000, temporalMs: 5_000 },
        restart: { initialDelayMs: 100 },
      }).then((handle) => {
        handles.push(handle);
        return handle;
      });
    const readEvents = async (): Promise<FixtureEvent[]> =>
      (await readFile(events, 'utf8'))
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as FixtureEvent);
    return { home, config, lines, start, readEvents, port };
  };

  it('devServerArgs: the flags of `temporal server start-dev`', () => {
    const args = devServerArgs({ dbFile: '/tmp/t.sqlite', port: 7233, uiPort: 8233, namespace: 'ns', ip: '127.0.0.1' });
    assert.deepEqual(args.slice(0, 2), ['server', 'start-dev']);
    const flag = (name: string) => args[args.indexOf(name) + 1];
    assert.equal(flag('--ip'), '127.0.0.1');
    assert.equal(flag('--port'), '7233');
    assert.equal(flag('--ui-port'), '8233');
    assert.equal(flag('--db-filename'), '/tmp/t.sqlite');
    assert.equal(flag('--namespace'), 'ns');
    assert.equal(flag('--log-level'), 'warn');
    const attrs = args.flatMap((a, i) => (args[i - 1] === '--search-attribute' ? [a] : []));
    assert.deepEqual(attrs.sort(), ['SwitchyardAgent=Keyword', 'SwitchyardChannel=Keyword', 'SwitchyardSessionKey=Keyword', 'SwitchyardState=Keyword']);
    const headless = devServerArgs({ dbFile: 'x', port: 1, uiPort: 2, headless: true });
    assert.ok(headless.includes('--headless'));
    assert.ok(!headless.includes('--ui-port'));
  });

  it('the dev server started with devServerArgs has the four search attributes', async () => {
    const { stdout } = await execFileAsync(temporalBin, ['operator', 'search-attribute', 'list', '--address', devServerAddress, '--output', 'json']);
    const listed = JSON.parse(stdout) as { customAttributes?: Record<string, string> } | Array<{ name: string; type: string }>;
    const text = JSON.stringify(listed);
    for (const name of Object.values(SEARCH_ATTRIBUTES)) assert.ok(text.includes(name), `${name} in ${text.slice(0, 300)}`);
  });

  it('waitForTemporal times out with a clear error, and honours an abort signal', async () => {
    const port = await freePort();
    await assert.rejects(waitForTemporal(`127.0.0.1:${port}`, { timeoutMs: 800 }), (err: unknown) => {
      assert.ok(err instanceof TemporalUnreachableError);
      assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${port} did not answer`));
      return true;
    });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('test abort')), 300);
    await assert.rejects(waitForTemporal(`127.0.0.1:${port}`, { timeoutMs: 60_000, signal: controller.signal }), /test abort/);
  });

  it('external Temporal: starts worker then API, prints the URLs, stops API then worker, releases the lock', async () => {
    const t = await setup('external', { temporal: { address: devServerAddress } });
    const gw = await t.start();
    const info = await gw.ready;
    assert.equal(info.apiUrl, `http://127.0.0.1:${t.port}`);
    assert.equal(info.wsUrl, `ws://127.0.0.1:${t.port}/rpc`);
    assert.equal(info.temporalAddress, devServerAddress);
    assert.equal(info.temporalUiUrl, undefined);
    const banner = t.lines.join('\n');
    assert.match(banner, new RegExp(`API: +http://127\\.0\\.0\\.1:${t.port}`));
    assert.match(banner, /WebSocket: +ws:\/\//);
    assert.match(banner, new RegExp(`Temporal: +${devServerAddress.replace(/\./g, '\\.')}`));
    assert.ok(banner.includes(path.join(t.home, 'logs')));
    assert.match(banner, /Ctrl-C to stop/);
    assert.ok(!gw.children.has('temporal'));
    assert.ok(existsSync(path.join(t.home, 'switchyard.pid')));

    // The children got the forwarded flags and the generated internal token.
    // Ready means the API answers; the worker, started first, may still be on its way up.
    const started = async (who: string) => {
      for (let waited = 0; ; waited += 50) {
        const start = (await t.readEvents()).find((e) => e.who === who && e.what.startsWith('start '));
        if (start) return JSON.parse(start.what.slice('start '.length)) as { argv: string[]; token: string; supervised: string; mmapThreshold?: string };
        assert.ok(waited < 30_000, `${who} never started`);
        await sleep(50);
      }
    };
    const seen = await started('worker');
    assert.deepEqual(seen.argv, ['--set', `gateway.port=${t.port}`]);
    assert.match(seen.token, /^[0-9a-f]{64}$/);
    assert.equal(seen.supervised, '1');
    // The worker, and only the worker, gets the malloc tuning of supervisor/worker-malloc.ts.
    assert.equal(seen.mmapThreshold, WORKER_MALLOC_ENV.MALLOC_MMAP_THRESHOLD_);
    assert.equal((await started('api')).mmapThreshold, undefined);

    // A second gateway on the same home is refused.
    await assert.rejects(t.start(), (err: unknown) => err instanceof InstanceLockError && /already running \(pid \d+, home /.test(err.message));

    await gw.stop();
    assert.equal(await gw.done, 0);
    const events = await t.readEvents();
    const at = (who: string, what: string) => events.find((e) => e.who === who && e.what === what)?.t ?? NaN;
    assert.ok(at('api', 'exit') <= at('worker', 'sigterm'), `API stopped before the worker was told to: ${JSON.stringify(events)}`);
    assert.ok(at('worker', 'exit') >= at('worker', 'sigterm') + 250, 'the worker was given time to drain');
    assert.equal(gw.children.get('api')?.state, 'stopped');
    assert.equal(gw.children.get('worker')?.state, 'stopped');
    assert.equal(existsSync(path.join(t.home, 'switchyard.pid')), false);
    assert.match(await readFile(path.join(t.home, 'logs', 'worker.log'), 'utf8'), /worker: started pid/);
  });

  it('embedded Temporal: runs the dev server as a child and stops API, worker, Temporal in that order', async () => {
    const [devServerPort, uiPort] = [await freePort(), await freePort()];
    const t = await setup('embedded', { temporal: { address: 'embedded', devServerPort, uiPort, namespace: 'switchyard-test' } });
    const gw = await t.start();
    const info = await gw.ready;
    assert.equal(info.temporalAddress, `127.0.0.1:${devServerPort}`);
    assert.equal(info.temporalUiUrl, `http://127.0.0.1:${uiPort}`);
    assert.match(t.lines.join('\n'), new RegExp(`Temporal UI: +http://127\\.0\\.0\\.1:${uiPort}`));
    assert.equal(gw.children.get('temporal')?.state, 'running');
    assert.ok(existsSync(path.join(t.home, 'temporal.sqlite')));
    const ui = await fetch(`http://127.0.0.1:${uiPort}/`);
    assert.equal(ui.status, 200);
    await ui.body?.cancel();
    // The namespace exists and has the search attributes.
    const { stdout } = await execFileAsync(temporalBin, ['operator', 'search-attribute', 'list', '--address', info.temporalAddress, '--namespace', 'switchyard-test']);
    for (const name of Object.values(SEARCH_ATTRIBUTES)) assert.ok(stdout.includes(name));

    const order: string[] = [];
    for (const [name, child] of gw.children) child.on('state', (state) => order.push(`${name}:${state}`));
    await gw.stop();
    assert.equal(await gw.done, 0);
    assert.deepEqual(order, ['api:stopping', 'api:stopped', 'worker:stopping', 'worker:stopped', 'temporal:stopping', 'temporal:stopped']);
    assert.ok(existsSync(path.join(t.home, 'logs', 'temporal.log')));
    assert.equal(existsSync(path.join(t.home, 'switchyard.pid')), false);
  });

  it('refuses to start when a port is taken, naming it, and releases the lock', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const taken = (blocker.address() as net.AddressInfo).port;
    try {
      const t = await setup('port-busy', { gateway: { port: taken }, temporal: { address: devServerAddress } });
      await assert.rejects(t.start(), (err: unknown) => {
        assert.ok(err instanceof GatewayStartError);
        assert.match(err.message, new RegExp(`port ${taken} on 127\\.0\\.0\\.1 \\(the API, gateway\\.port\\) is already in use`));
        return true;
      });
      assert.equal(existsSync(path.join(t.home, 'switchyard.pid')), false);
    } finally {
      blocker.close();
    }
  });

  it('a child exiting 78 (config error) is not restarted: everything stops and done is 78', async () => {
    const t = await setup('exit78', { temporal: { address: devServerAddress } }, { FIXTURE_WORKER_MODE: 'exit78' });
    const gw = await t.start();
    assert.equal(await gw.done, 78);
    // The API starts beside the worker, so on a busy machine it may answer /healthz before the
    // worker's exit is seen: `ready` may have resolved first; either way it has settled.
    await gw.ready.catch(() => undefined);
    const out = t.lines.join('\n');
    assert.match(out, /worker stopped for good: worker exited with code 78 \(configuration error/);
    assert.match(out, /worker\.maxConcurrentTurns/);
    assert.equal(gw.children.get('worker')?.restarts, 0);
    assert.equal(existsSync(path.join(t.home, 'switchyard.pid')), false);
  });

  it('a second stop() while stopping kills every group at once', async () => {
    const t = await setup('escalate', { temporal: { address: devServerAddress } }, { FIXTURE_WORKER_MODE: 'stubborn' });
    const gw = await t.start();
    await gw.ready;
    const first = gw.stop();
    // Wait until the worker is the one being waited for (it ignores SIGTERM; grace 3 s).
    while (gw.children.get('worker')?.state !== 'stopping') await sleep(20);
    const started = Date.now();
    await gw.stop();
    await first;
    assert.ok(Date.now() - started < 2_000, 'did not wait for the worker grace period');
    assert.equal(gw.children.get('worker')?.status().lastExit?.signal, 'SIGKILL');
    assert.equal(await gw.done, 0);
  });

  it('stop() while waiting for an unreachable external Temporal ends promptly', async () => {
    const t = await setup('unreachable', { temporal: { address: `127.0.0.1:${await freePort()}` } });
    const gw = await t.start();
    await sleep(300);
    assert.ok(t.lines.some((l) => /connecting to Temporal at 127\.0\.0\.1:\d+/.test(l)));
    const started = Date.now();
    await gw.stop();
    assert.equal(await gw.done, 0);
    assert.ok(Date.now() - started < 3_000);
    assert.equal(gw.children.size, 0, 'nothing was started');
  });
});
