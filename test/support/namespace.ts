// Each test file runs in a Temporal namespace of its own, so that files can run side by side
// on one dev server: their workers poll the same task-queue names, and cron reconciles
// schedules namespace-wide. test/run.ts registers one namespace per file at server start.
import path from 'node:path';

export const PER_FILE_NAMESPACES_ENV = 'SWITCHYARD_TEST_PER_FILE_NAMESPACES';

export function namespaceForTestFile(file: string): string {
  const name = path.basename(file).replace(/\.test\.ts$/, '').toLowerCase().replace(/[^a-z0-9-]+/g, '-');
  return `test-${name}`;
}

/** This process's namespace: its test file's under test/run.ts, else `default` (benchmarks, scripts). */
export function currentTestNamespace(): string {
  const file = process.argv[1] ?? '';
  return process.env[PER_FILE_NAMESPACES_ENV] === '1' && file.endsWith('.test.ts') ? namespaceForTestFile(file) : 'default';
}
