import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { acquireInstanceLock, InstanceLockError, runningInstance } from '../supervisor/instance-lock.js';

/** A pid that certainly belonged to a process that has exited. */
function deadPid(): number {
  const result = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(result.stdout.toString());
}

describe('instance lock', () => {
  let home: string;
  before(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'switchyard-lock-'));
  });
  after(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it('writes the pid file, refuses a second start, and releases', async () => {
    const lock = await acquireInstanceLock(home);
    const pidFile = path.join(home, 'switchyard.pid');
    assert.equal(lock.pidFile, pidFile);
    assert.equal((await readFile(pidFile, 'utf8')).trim(), String(process.pid));
    assert.equal(await runningInstance(home), process.pid);

    await assert.rejects(acquireInstanceLock(home), (err: unknown) => {
      assert.ok(err instanceof InstanceLockError);
      assert.equal(err.message.startsWith(`Switchyard is already running (pid ${process.pid}, home ${home})`), true, err.message);
      assert.equal(err.pid, process.pid);
      return true;
    });

    await lock.release();
    assert.equal(existsSync(pidFile), false);
    await lock.release(); // idempotent
    assert.equal(await runningInstance(home), undefined);

    const again = await acquireInstanceLock(home);
    await again.release();
  });

  it('takes over a stale pid file', async () => {
    const pidFile = path.join(home, 'switchyard.pid');
    const stale = deadPid();
    await writeFile(pidFile, `${stale}\n`);
    assert.equal(await runningInstance(home), undefined);
    const lock = await acquireInstanceLock(home);
    assert.equal((await readFile(pidFile, 'utf8')).trim(), String(process.pid));
    await lock.release();
  });

  it('takes over a garbage pid file once it is old enough', async () => {
    const pidFile = path.join(home, 'switchyard.pid');
    await writeFile(pidFile, 'garbage');
    const old = new Date(Date.now() - 60_000);
    const { utimes } = await import('node:fs/promises');
    await utimes(pidFile, old, old);
    const lock = await acquireInstanceLock(home);
    assert.equal((await readFile(pidFile, 'utf8')).trim(), String(process.pid));
    await lock.release();
  });

  it('does not remove a pid file that another process has taken over', async () => {
    const pidFile = path.join(home, 'switchyard.pid');
    const lock = await acquireInstanceLock(home);
    await writeFile(pidFile, '1\n'); // pretend another instance replaced it
    await lock.release();
    assert.equal((await readFile(pidFile, 'utf8')).trim(), '1');
    await rm(pidFile);
  });

  it('lets only one of several concurrent starters win over a stale file', async () => {
    const pidFile = path.join(home, 'switchyard.pid');
    await writeFile(pidFile, `${deadPid()}\n`);
    const results = await Promise.allSettled([1, 2, 3, 4].map(() => acquireInstanceLock(home)));
    const won = results.filter((r) => r.status === 'fulfilled');
    assert.equal(won.length, 1);
    for (const r of results) if (r.status === 'rejected') assert.ok(r.reason instanceof InstanceLockError);
    await (won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof acquireInstanceLock>>>).value.release();
  });
});
