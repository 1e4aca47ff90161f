// The worker's malloc tuning (supervisor/worker-malloc.ts): added to the worker's environment
// unless the operator already tunes glibc's malloc, in which case theirs stands alone.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WORKER_MALLOC_ENV, withWorkerMallocTuning } from '../supervisor/worker-malloc.js';

test('an environment without malloc tuning gets a fixed mmap threshold', () => {
  const env = withWorkerMallocTuning({ PATH: '/usr/bin', SWITCHYARD_HOME: '/srv/switchyard' });
  assert.deepEqual(env, { PATH: '/usr/bin', SWITCHYARD_HOME: '/srv/switchyard', ...WORKER_MALLOC_ENV });
  assert.equal(env.MALLOC_MMAP_THRESHOLD_, '65536');
});

test("an operator's own MALLOC_* setting is kept, and nothing is added beside it", () => {
  for (const own of [{ MALLOC_ARENA_MAX: '2' }, { MALLOC_MMAP_THRESHOLD_: '131072' }, { MALLOC_TRIM_THRESHOLD_: '0' }]) {
    assert.deepEqual(withWorkerMallocTuning({ PATH: '/usr/bin', ...own }), { PATH: '/usr/bin', ...own });
  }
});

test('malloc tunables in GLIBC_TUNABLES count as tuning; other tunables do not', () => {
  const tuned = { GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' };
  assert.deepEqual(withWorkerMallocTuning(tuned), tuned);
  const other = { GLIBC_TUNABLES: 'glibc.pthread.rseq=0' };
  assert.deepEqual(withWorkerMallocTuning(other), { ...other, ...WORKER_MALLOC_ENV });
});

test('the environment passed in is not changed', () => {
  const env = { PATH: '/usr/bin' };
  withWorkerMallocTuning(env);
  assert.deepEqual(env, { PATH: '/usr/bin' });
});
