// Children left behind by a supervisor that died: recorded in $SWITCHYARD_HOME/run/children.json,
// stopped by the next start when they are still the same processes (pid, start time, argv), left
// alone otherwise. Then for real: `switchyard start` SIGKILLed, started again in the same home.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { projectRoot } from '../supervisor/temporal-binary.js';
import {
  ChildrenRecorder,
  childrenFilePath,
  readChildrenFile,
  stopStaleChildren,
  type ChildRecord,
} from '../supervisor/stale-children.js';
import { readProcStat } from '../supervisor/processes.js';
import { freePort, parentOf, processAlive, switchyardArgv } from './support/processes.js';
import { eventually, processesMatching } from './support/sessions.js';

const linux = process.platform === 'linux' ? false : 'needs /proc';

/** Kills the group of `pid` (ignoring errors), for cleanup. */
const killGroup = (pid: number | undefined) => {
  if (!pid) return;
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, 'SIGKILL');
    } catch {
      // gone
    }
  }
};

/** A long-running fixture in its own process group, like the supervisor's children. */
function spawnFixture(script: string): { child: ChildProcess; cmdline: string[]; exited: Promise<void> } {
  const cmdline = [process.execPath, '-e', script];
  const child = spawn(cmdline[0]!, cmdline.slice(1), { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { child, cmdline, exited };
}

/** Resolves with the first line the child prints. */
const firstLine = (child: ChildProcess) =>
  new Promise<string>((resolve, reject) => {
    let text = '';
    child.stdout!.on('data', (chunk) => {
      text += chunk;
      const nl = text.indexOf('\n');
      if (nl >= 0) resolve(text.slice(0, nl).trim());
    });
    child.once('exit', () => reject(new Error(`exited before printing a line: ${text}`)));
  });

describe('stale children (unit)', { skip: linux }, () => {
  let dir: string;
  const cleanup: number[] = [];

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'switchyard-stale-'));
  });

  after(() => {
    for (const pid of cleanup) killGroup(pid);
    rmSync(dir, { recursive: true, force: true });
  });

  const freshHome = (name: string) => path.join(dir, name);

  it('the recorder writes pid, start time and argv on every spawn and removes the file on clear()', async () => {
    const home = freshHome('recorder');
    const a = spawnFixture('setInterval(() => {}, 1000)');
    const b = spawnFixture('setInterval(() => {}, 1000); // b');
    cleanup.push(a.child.pid!, b.child.pid!);
    const recorder = new ChildrenRecorder(home);
    recorder.spawned('temporal', a.child.pid!, a.cmdline);
    recorder.spawned('worker', b.child.pid!, b.cmdline);
    const file = JSON.parse(readFileSync(childrenFilePath(home), 'utf8'));
    assert.equal(file.supervisorPid, process.pid);
    assert.deepEqual(readChildrenFile(home), [
      { name: 'temporal', pid: a.child.pid, startTime: readProcStat(a.child.pid!)!.startTime, cmdline: a.cmdline },
      { name: 'worker', pid: b.child.pid, startTime: readProcStat(b.child.pid!)!.startTime, cmdline: b.cmdline },
    ]);
    // A restart replaces the record of that name.
    recorder.spawned('temporal', b.child.pid!, b.cmdline);
    assert.deepEqual(
      readChildrenFile(home).map((r) => [r.name, r.pid]),
      [
        ['temporal', b.child.pid],
        ['worker', b.child.pid],
      ],
    );
    recorder.clear();
    assert.equal(existsSync(childrenFilePath(home)), false);
    killGroup(a.child.pid);
    killGroup(b.child.pid);
    await Promise.all([a.exited, b.exited]);
  });

  it('a recorded child that is still alive is stopped with its whole process group', async () => {
    const home = freshHome('alive');
    // The fixture starts a grandchild in its group (as Temporal or the worker might) and prints its pid.
    const fixture = spawnFixture(`
      const { spawn } = require('node:child_process');
      const grandchild = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
      console.log(grandchild.pid);
      setInterval(() => {}, 1000);
    `);
    const grandchild = Number(await firstLine(fixture.child));
    cleanup.push(fixture.child.pid!, grandchild);
    new ChildrenRecorder(home).spawned('temporal', fixture.child.pid!, fixture.cmdline);

    const lines: string[] = [];
    const outcomes = await stopStaleChildren(home, { log: (line) => lines.push(line), graceMs: 5_000 });
    assert.deepEqual(outcomes, [{ name: 'temporal', pid: fixture.child.pid, outcome: 'stopped' }]);
    assert.deepEqual(lines, [`switchyard: stopping a leftover temporal (pid ${fixture.child.pid}) from a supervisor that died`]);
    await fixture.exited;
    await eventually('the grandchild to be gone', () => !processAlive(grandchild), 5_000);
    assert.equal(existsSync(childrenFilePath(home)), false, 'the record is removed');
  });

  it('a child that ignores SIGTERM gets SIGKILL after the grace period', async () => {
    const home = freshHome('stubborn');
    const fixture = spawnFixture(`process.on('SIGTERM', () => {}); console.log('ready'); setInterval(() => {}, 1000);`);
    await firstLine(fixture.child);
    cleanup.push(fixture.child.pid!);
    new ChildrenRecorder(home).spawned('worker', fixture.child.pid!, fixture.cmdline);

    const lines: string[] = [];
    const started = Date.now();
    const outcomes = await stopStaleChildren(home, { log: (line) => lines.push(line), graceMs: 500 });
    assert.deepEqual(outcomes, [{ name: 'worker', pid: fixture.child.pid, outcome: 'killed' }]);
    assert.ok(Date.now() - started >= 500, 'the grace period was granted');
    assert.match(lines.join('\n'), /did not stop within .*SIGKILL/);
    await fixture.exited;
    assert.equal(fixture.child.signalCode, 'SIGKILL');
  });

  it('a recorded pid whose start time or command line differs is left alone', async () => {
    const home = freshHome('reused');
    const fixture = spawnFixture('setInterval(() => {}, 1000)');
    cleanup.push(fixture.child.pid!);
    await eventually('the fixture to run', () => readProcStat(fixture.child.pid!));
    const real = readProcStat(fixture.child.pid!)!;
    const records: ChildRecord[] = [
      // The same pid, but "started" at another time: a reused pid.
      { name: 'temporal', pid: fixture.child.pid!, startTime: String(Number(real.startTime) + 1), cmdline: fixture.cmdline },
      // The same pid and start time, another command line.
      { name: 'api', pid: fixture.child.pid!, startTime: real.startTime, cmdline: [process.execPath, 'something-else.js'] },
    ];
    writeRecords(home, records);

    const lines: string[] = [];
    const outcomes = await stopStaleChildren(home, { log: (line) => lines.push(line), graceMs: 500 });
    assert.deepEqual(
      outcomes.map((o) => o.outcome),
      ['other-process', 'other-process'],
    );
    assert.deepEqual(lines, []);
    assert.equal(processAlive(fixture.child.pid!), true, 'the process is still running');
    killGroup(fixture.child.pid);
    await fixture.exited;
  });

  it('a dead or zombie child is skipped', async () => {
    const home = freshHome('dead');
    // Dead: exited and reaped.
    const dead = spawnFixture('setInterval(() => {}, 1000)');
    await eventually('the fixture to run', () => readProcStat(dead.child.pid!));
    const deadRecord: ChildRecord = { name: 'worker', pid: dead.child.pid!, startTime: readProcStat(dead.child.pid!)!.startTime, cmdline: dead.cmdline };
    killGroup(dead.child.pid);
    await dead.exited;

    // A zombie: `sleep 0` finishes, and its parent (sh exec'd into `sleep 60`) never reaps it.
    const parent = spawn('sh', ['-c', 'sleep 0 & echo $!; exec sleep 60'], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
    cleanup.push(parent.pid!);
    const zombie = Number(await firstLine(parent));
    const zombieStat = await eventually('the zombie', () => (readProcStat(zombie)?.state === 'Z' ? readProcStat(zombie) : undefined), 10_000);
    const zombieRecord: ChildRecord = { name: 'temporal', pid: zombie, startTime: zombieStat.startTime, cmdline: ['sleep', '0'] };
    writeRecords(home, [deadRecord, zombieRecord]);

    const lines: string[] = [];
    const outcomes = await stopStaleChildren(home, { log: (line) => lines.push(line), graceMs: 500 });
    assert.deepEqual(outcomes.map((o) => [o.name, o.outcome]).sort(), [
      ['temporal', 'gone'],
      ['worker', 'gone'],
    ]);
    assert.deepEqual(lines, []);
    assert.equal(processAlive(parent.pid!), true, "the zombie's parent is untouched");
    killGroup(parent.pid);
  });

  it('no file, or a file that is not JSON, is nothing to stop', async () => {
    assert.deepEqual(await stopStaleChildren(freshHome('none')), []);
    const home = freshHome('garbage');
    writeRecords(home, []);
    writeFileSync(childrenFilePath(home), '{ not json');
    assert.deepEqual(await stopStaleChildren(home), []);
  });
});

const temporalBin = process.env.SWITCHYARD_TEMPORAL_BIN || path.join(projectRoot(), '.tools', 'bin', 'temporal');
const e2eSkip = linux || (existsSync(temporalBin) ? false : `no temporal CLI at ${temporalBin}`);

describe('a supervisor SIGKILLed, then started again in the same home', { skip: e2eSkip }, () => {
  let dir: string;
  let home: string;
  let api: string;
  let temporalPort: number;
  const gateways: ChildProcess[] = [];
  const seen = new Set<number>();

  type Gateway = { child: ChildProcess; output: () => string; exited: Promise<number | null> };
  const startGateway = (): Gateway => {
    const child = spawn(process.execPath, switchyardArgv('start'), {
      cwd: dir,
      env: { ...process.env, SWITCHYARD_HOME: home, SWITCHYARD_TEST_TEMPORAL_ADDRESS: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    gateways.push(child);
    let output = '';
    child.stdout!.on('data', (chunk) => (output += chunk));
    child.stderr!.on('data', (chunk) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    return { child, output: () => output, exited };
  };

  /** GET /readyz answers 200; fails at once if the gateway exits first. */
  const waitReady = async (gateway: Gateway) => {
    const exitedEarly = gateway.exited.then((code) => {
      throw new Error(`the gateway exited with ${code} before it was ready:\n${gateway.output()}`);
    });
    await Promise.race([eventually('the gateway to be ready', async () => (await fetch(`${api}/readyz`)).status === 200, 180_000), exitedEarly]);
    exitedEarly.catch(() => undefined);
  };

  /** The supervised child of `gateway` whose command line contains `needle`. */
  const childOf = (gateway: Gateway, needle: string) =>
    eventually(`the ${needle} process`, () => {
      const pid = processesMatching(needle).find((p) => parentOf(p) === gateway.child.pid && processAlive(p));
      if (pid) seen.add(pid);
      return pid;
    });

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'switchyard-stale-e2e-'));
    home = path.join(dir, 'home');
    temporalPort = await freePort();
    const port = await freePort();
    api = `http://127.0.0.1:${port}`;
    writeFileSync(
      path.join(dir, 'switchyard.yaml'),
      stringify({ gateway: { port }, temporal: { devServerPort: temporalPort, uiPort: await freePort() } }),
    );
  });

  after(() => {
    for (const gateway of gateways) if (gateway.exitCode === null && gateway.signalCode === null) gateway.kill('SIGKILL');
    for (const pid of seen) if (processAlive(pid)) killGroup(pid);
    rmSync(dir, { recursive: true, force: true });
  });

  it('the next start stops the leftover Temporal and comes up; Ctrl-C then leaves nothing behind', async () => {
    const first = startGateway();
    await waitReady(first);
    const temporal = await childOf(first, `--port ${temporalPort}`);
    const worker = await childOf(first, path.join('worker', 'main.ts'));
    const apiPid = await childOf(first, path.join('api', 'main.ts'));
    const recorded = readChildrenFile(home);
    assert.deepEqual(recorded.map((r) => [r.name, r.pid]).sort(), [
      ['api', apiPid],
      ['temporal', temporal],
      ['worker', worker],
    ]);
    for (const record of recorded) assert.equal(record.startTime, readProcStat(record.pid)?.startTime);

    // The supervisor dies hard: the worker and the API notice (orphan guard), Temporal does not.
    first.child.kill('SIGKILL');
    await first.exited;
    await eventually('the orphaned worker and API to exit', () => !processAlive(worker) && !processAlive(apiPid), 60_000);
    assert.equal(processAlive(temporal), true, 'the orphaned Temporal dev server is still running');
    assert.equal(existsSync(childrenFilePath(home)), true, 'the record survived the supervisor');

    // Started again in the same home: the leftover Temporal is stopped, the ports are free.
    const second = startGateway();
    await waitReady(second);
    assert.match(second.output(), new RegExp(`stopping a leftover temporal \\(pid ${temporal}\\) from a supervisor that died`));
    assert.equal(processAlive(temporal), false, 'the leftover Temporal is gone');
    const pids = [
      await childOf(second, `--port ${temporalPort}`),
      await childOf(second, path.join('worker', 'main.ts')),
      await childOf(second, path.join('api', 'main.ts')),
    ];
    assert.ok(!pids.includes(temporal));
    assert.deepEqual(readChildrenFile(home).map((r) => r.pid).sort(), [...pids].sort());

    second.child.kill('SIGINT');
    assert.equal(await second.exited, 0, second.output());
    for (const pid of [...pids, temporal, worker, apiPid]) assert.equal(processAlive(pid), false, `process ${pid} is gone`);
    assert.deepEqual(processesMatching(dir).filter(processAlive), []);
    assert.equal(existsSync(childrenFilePath(home)), false, 'a clean stop removes the record');
  });
});

/** Writes children.json by hand (records the recorder would never write). */
function writeRecords(home: string, children: ChildRecord[]): void {
  const file = childrenFilePath(home);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify({ version: 1, supervisorPid: 999_999, updatedAt: new Date().toISOString(), children }));
}
