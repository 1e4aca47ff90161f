// `npm test`: one Temporal dev server for the whole run (DESIGN.md: createLocal with an
// existing binary and Switchyard's search attributes), then node's test runner over the
// test files, then teardown. Arguments narrow the run to some files.
//
// Files run two at a time (SWITCHYARD_TEST_CONCURRENCY to change it), each in a Temporal
// namespace of its own (test/support/namespace.ts): most of a file's time is spent waiting
// on timers, schedules and the CLI, not on the CPU.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../supervisor/temporal-binary.js';
import { startTestTemporal } from './support/dev-server.js';
import { namespaceForTestFile, PER_FILE_NAMESPACES_ENV } from './support/namespace.js';

const root = projectRoot();
// `--faults` runs test/faults/ (npm run test:faults): real processes killed, minutes each,
// so the default run leaves that folder out.
const faults = process.argv.includes('--faults');
const requested = process.argv.slice(2).filter((arg) => arg !== '--faults');
const FAULTS_DIR = path.join('test', 'faults') + path.sep;
const files =
  requested.length > 0
    ? requested
    : findTests(path.join(root, 'test')).filter((file) => file.startsWith(FAULTS_DIR) === faults);

const concurrency = Number(process.env.SWITCHYARD_TEST_CONCURRENCY ?? (faults ? 1 : 2));
const env = await startTestTemporal(files.map(namespaceForTestFile));
console.error(`test: Temporal at ${env.address}; ${files.length} test files, ${concurrency} at a time`);

const code = await new Promise<number>((resolve) => {
  const child = spawn(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, ...files], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, SWITCHYARD_TEST_TEMPORAL_ADDRESS: env.address, [PER_FILE_NAMESPACES_ENV]: '1' },
  });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on('SIGINT', forward).on('SIGTERM', forward);
  child.on('exit', (exitCode, signal) => resolve(exitCode ?? (signal ? 1 : 0)));
});
await env.teardown();
process.exit(code);

function findTests(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.test.ts'))
    .map((entry) => path.relative(root, path.join(entry.parentPath, entry.name)))
    .sort();
}
