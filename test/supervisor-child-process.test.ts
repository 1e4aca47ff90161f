import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SupervisedChild, type ChildState, type SupervisedChildOptions } from '../supervisor/child-process.js';
import { processRunning } from '../supervisor/processes.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function waitFor(what: string, predicate: () => boolean, timeoutMs = 5_000): Promise<void> {
  const started = Date.now();
  while (!predicate()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

const processGone = (pid: number) => !processRunning(pid);

const FIXTURES: Record<string, string> = {
  // Prints, then lives until SIGTERM; exits 0 on it.
  // The handler first: the test sends SIGTERM as soon as it has read both lines.
  'steady.mjs': `
    process.on('SIGTERM', () => { console.log('got SIGTERM'); process.exit(0); });
    console.log('hello from steady');
    console.error('a line on stderr');
    setInterval(() => {}, 1000);
  `,
  // Exits with the code given as argv[2] after argv[3] ms.
  'exit-with.mjs': `
    const code = Number(process.argv[2] ?? 1);
    const after = Number(process.argv[3] ?? 0);
    console.error('bad config: gateway.port expected a number');
    setTimeout(() => process.exit(code), after);
  `,
  // Ignores SIGTERM entirely.
  'stubborn.mjs': `
    process.on('SIGTERM', () => { console.log('ignoring SIGTERM'); });
    console.log('ready');
    setInterval(() => {}, 1000);
  `,
  // Starts a grandchild that ignores SIGTERM, prints its pid; exits on SIGTERM itself
  // (or, with argv[2] === 'crash', exits 1 shortly after).
  'parent.mjs': `
    import { spawn } from 'node:child_process';
    process.on('SIGTERM', () => { console.log('parent got SIGTERM'); process.exit(0); });
    const gc = spawn(process.execPath, ['-e', "process.on('SIGTERM', () => console.log('grandchild got SIGTERM')); console.log('grandchild ready'); setInterval(() => {}, 1000)"], { stdio: ['ignore', 'inherit', 'inherit'] });
    console.log('grandchild ' + gc.pid);
    if (process.argv[2] === 'crash') setTimeout(() => process.exit(1), 300);
    setInterval(() => {}, 1000);
  `,
};

describe('SupervisedChild', () => {
  let dir: string;
  const children: SupervisedChild[] = [];
  const fixture = (name: string) => path.join(dir, name);
  const make = (opts: Partial<SupervisedChildOptions> & { script: string; scriptArgs?: string[] }) => {
    const { script, scriptArgs, ...rest } = opts;
    const child = new SupervisedChild({
      name: script.replace(/\.mjs$/, ''),
      command: process.execPath,
      args: [fixture(script), ...(scriptArgs ?? [])],
      ...rest,
    });
    children.push(child);
    return child;
  };

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'switchyard-child-'));
    for (const [name, text] of Object.entries(FIXTURES)) await writeFile(path.join(dir, name), text);
  });
  after(async () => {
    for (const child of children) child.kill();
    await rm(dir, { recursive: true, force: true });
  });

  it('starts, logs stdout and stderr to the file and the ring buffer, and stops on SIGTERM', async () => {
    const logFile = path.join(dir, 'logs', 'steady.log');
    const child = make({ script: 'steady.mjs', logFile, ringSize: 10 });
    const states: ChildState[] = [];
    child.on('state', (s) => states.push(s));
    child.start();
    await waitFor('output', () => child.recentLines().length >= 2);
    assert.equal(child.state, 'running');
    assert.ok(child.pid && child.pid > 0);
    const lines = child.recentLines();
    assert.deepEqual(
      lines.map((l) => [l.stream, l.line]).sort(),
      [
        ['stderr', 'a line on stderr'],
        ['stdout', 'hello from steady'],
      ],
    );
    await child.stop({ graceMs: 2_000 });
    assert.equal(child.state, 'stopped');
    assert.deepEqual(states, ['starting', 'running', 'stopping', 'stopped']);
    assert.equal(child.status().lastExit?.code, 0);
    assert.equal(child.status().lastExit?.expected, true);
    await sleep(50); // let the write stream flush
    const text = await readFile(logFile, 'utf8');
    assert.match(text, /hello from steady/);
    assert.match(text, /a line on stderr/);
    assert.match(text, /got SIGTERM/);
    assert.match(text, /\] steady: started pid/);
    assert.equal(child.restarts, 0);
  });

  it('keeps only ringSize lines', async () => {
    await writeFile(fixture('chatty.mjs'), `for (let i = 0; i < 50; i++) console.log('line ' + i); setInterval(() => {}, 1000);`);
    const child = make({ script: 'chatty.mjs', ringSize: 5 });
    child.start();
    await waitFor('50 lines', () => child.recentLines().at(-1)?.line === 'line 49');
    assert.deepEqual(child.recentLines().map((l) => l.line), ['line 45', 'line 46', 'line 47', 'line 48', 'line 49']);
    assert.deepEqual(child.recentLines(2).map((l) => l.line), ['line 48', 'line 49']);
    await child.stop({ graceMs: 1_000 });
  });

  it('restarts a crashing child with exponential backoff, and stop() during backoff ends it', async () => {
    const child = make({ script: 'exit-with.mjs', scriptArgs: ['1', '0'], restart: { initialDelayMs: 40, factor: 2, maxDelayMs: 200 } });
    const delays: number[] = [];
    child.on('restart', (_attempt, delayMs) => delays.push(delayMs));
    child.start();
    await waitFor('4 restarts', () => child.restarts >= 4, 10_000);
    assert.deepEqual(delays.slice(0, 4), [40, 80, 160, 200]);
    await waitFor('backoff', () => child.state === 'backoff');
    assert.match(child.status().reason ?? '', /exited with code 1; restarting in \d+ ms/);
    assert.ok(child.status().nextRestartAt);
    const restarts = child.restarts;
    await child.stop();
    assert.equal(child.state, 'stopped');
    await sleep(300);
    assert.equal(child.restarts, restarts, 'no restart after stop()');
  });

  it('starts the backoff over after a stable run', async () => {
    const child = make({ script: 'exit-with.mjs', scriptArgs: ['1', '250'], restart: { initialDelayMs: 30, resetAfterMs: 150 } });
    const delays: number[] = [];
    child.on('restart', (_a, delayMs) => delays.push(delayMs));
    child.start();
    await waitFor('3 restarts', () => child.restarts >= 3, 10_000);
    assert.deepEqual(delays.slice(0, 3), [30, 30, 30]);
    await child.stop();
  });

  it('does not restart after exit code 78 (config error): crashed, with the reason', async () => {
    const child = make({ script: 'exit-with.mjs', scriptArgs: ['78', '0'], restart: { initialDelayMs: 20 } });
    const crashed = new Promise<string>((resolve) => child.once('crashed', resolve));
    child.start();
    const reason = await crashed;
    assert.equal(child.state, 'crashed');
    assert.match(reason, /exited with code 78 \(configuration error/);
    assert.match(reason, /bad config: gateway\.port expected a number/);
    await sleep(150);
    assert.equal(child.restarts, 0);
    assert.equal(child.state, 'crashed');
    await child.stop(); // harmless
    assert.equal(child.state, 'crashed');
  });

  it('restart policies: on-failure stops after exit 0, never crashes on a failure', async () => {
    const clean = make({ script: 'exit-with.mjs', scriptArgs: ['0', '0'], restart: { policy: 'on-failure', initialDelayMs: 20 } });
    clean.start();
    await waitFor('stopped', () => clean.state === 'stopped' && clean.status().lastExit !== undefined);
    await sleep(100);
    assert.equal(clean.restarts, 0);

    const never = make({ script: 'exit-with.mjs', scriptArgs: ['3', '0'], restart: { policy: 'never' } });
    never.start();
    await waitFor('crashed', () => never.state === 'crashed');
    assert.match(never.status().reason ?? '', /code 3/);

    const always = make({ script: 'exit-with.mjs', scriptArgs: ['0', '0'], restart: { policy: 'always', initialDelayMs: 20 } });
    always.start();
    await waitFor('a restart', () => always.restarts >= 1);
    await always.stop();
  });

  it('crash-loop breaker gives up after maxRestarts within the window', async () => {
    const child = make({ script: 'exit-with.mjs', scriptArgs: ['1', '0'], restart: { initialDelayMs: 10, factor: 1, crashLoop: { maxRestarts: 3, windowMs: 10_000 } } });
    child.start();
    await waitFor('crashed', () => child.state === 'crashed', 10_000);
    assert.equal(child.restarts, 3);
    assert.match(child.status().reason ?? '', /crash-looping: 3 restarts/);
  });

  it('a command that cannot be spawned is crashed, not restarted', async () => {
    const child = new SupervisedChild({ name: 'missing', command: path.join(dir, 'does-not-exist'), restart: { initialDelayMs: 10 } });
    children.push(child);
    child.start();
    await waitFor('crashed', () => child.state === 'crashed');
    assert.match(child.status().reason ?? '', /ENOENT/);
    await sleep(50);
    assert.equal(child.restarts, 0);
  });

  it('stop() escalates to SIGKILL when SIGTERM is ignored', async () => {
    const child = make({ script: 'stubborn.mjs' });
    child.start();
    await waitFor('ready', () => child.recentLines().some((l) => l.line === 'ready'));
    const pid = child.pid!;
    const started = Date.now();
    await child.stop({ graceMs: 400 });
    const took = Date.now() - started;
    assert.ok(took >= 380, `waited the grace period (${took} ms)`);
    assert.ok(took < 3_000, `then killed promptly (${took} ms)`);
    assert.equal(child.status().lastExit?.signal, 'SIGKILL');
    assert.ok(child.recentLines().some((l) => l.line === 'ignoring SIGTERM'), 'SIGTERM was sent first');
    assert.ok(processGone(pid));
  });

  it('a grandchild that ignores SIGTERM dies with the group on stop()', async () => {
    const child = make({ script: 'parent.mjs' });
    child.start();
    await waitFor('grandchild pid', () => child.recentLines().some((l) => /^grandchild \d+$/.test(l.line)));
    const grandchild = Number(child.recentLines().find((l) => /^grandchild \d+$/.test(l.line))!.line.split(' ')[1]);
    await waitFor('grandchild handler', () => child.recentLines().some((l) => l.line === 'grandchild ready'));
    assert.equal(processGone(grandchild), false);
    await child.stop({ graceMs: 2_000 });
    await waitFor('grandchild gone', () => processGone(grandchild), 3_000);
    assert.ok(child.recentLines().some((l) => l.line === 'grandchild got SIGTERM'), 'the group got SIGTERM');
  });

  it("with termTarget 'leader' the child gets SIGTERM first, the rest of its group once it has exited", async () => {
    const child = make({ script: 'parent.mjs', termTarget: 'leader' });
    child.start();
    await waitFor('grandchild pid', () => child.recentLines().some((l) => /^grandchild \d+$/.test(l.line)));
    const grandchild = Number(child.recentLines().find((l) => /^grandchild \d+$/.test(l.line))!.line.split(' ')[1]);
    await waitFor('grandchild handler', () => child.recentLines().some((l) => l.line === 'grandchild ready'));
    await child.stop({ graceMs: 1_000 });
    await waitFor('grandchild gone', () => processGone(grandchild), 3_000);
    const lines = child.recentLines().map((l) => l.line);
    const parentAt = lines.indexOf('parent got SIGTERM');
    const grandchildAt = lines.indexOf('grandchild got SIGTERM');
    assert.ok(parentAt >= 0 && grandchildAt > parentAt, `parent first, then the group: ${JSON.stringify(lines)}`);
  });

  it('a crashed child does not leave its grandchildren behind', async () => {
    const child = make({ script: 'parent.mjs', scriptArgs: ['crash'], restart: { initialDelayMs: 5_000 } });
    child.start();
    await waitFor('grandchild pid', () => child.recentLines().some((l) => /^grandchild \d+$/.test(l.line)));
    const grandchild = Number(child.recentLines().find((l) => /^grandchild \d+$/.test(l.line))!.line.split(' ')[1]);
    await waitFor('backoff', () => child.state === 'backoff');
    await waitFor('grandchild gone', () => processGone(grandchild), 3_000);
    await child.stop();
  });

  it('can be started again after stop()', async () => {
    const child = make({ script: 'steady.mjs' });
    child.start();
    await waitFor('running', () => child.state === 'running');
    const first = child.pid;
    await child.stop();
    child.start();
    await waitFor('running again', () => child.state === 'running' && child.pid !== first);
    await child.stop();
    assert.equal(child.state, 'stopped');
  });
});
