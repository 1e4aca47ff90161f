// glibc's malloc tuning for the worker process (Linux; other C libraries ignore it).
//
// Measured in the soak (docs/reliability.md): with glibc's defaults the worker's resident
// memory kept rising, all of it in the malloc arenas of its threads other than the main one
// (the Temporal core's, libuv's, the workflow thread), while every V8 heap stayed flat after
// GC; `malloc_trim(0)` run in the process gave most of it back, so it was memory freed but
// kept, not a leak. glibc raises its mmap threshold each time a large mmapped block is freed
// (up to 32 MiB), after which large blocks come from the arenas and their holes are kept. A
// fixed threshold turns that off: blocks of 64 KiB and more are mmapped and go back to the
// system when freed.
export const WORKER_MALLOC_ENV = { MALLOC_MMAP_THRESHOLD_: '65536' } as const;

/** The worker's environment: `env` plus WORKER_MALLOC_ENV, unless the operator tunes malloc already. */
export function withWorkerMallocTuning(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const tuned = Object.keys(env).some((key) => key.startsWith('MALLOC_')) || /glibc\.malloc\./.test(env.GLIBC_TUNABLES ?? '');
  return tuned ? env : { ...env, ...WORKER_MALLOC_ENV };
}
