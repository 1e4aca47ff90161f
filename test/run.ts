// `npm test`: one Temporal dev server for the whole run (DESIGN.md: createLocal with an
// existing binary and Switchyard's search attributes), then node's test runner over the
// test files, then teardown. Arguments narrow the run to some files.
//
// The workflow bundles are built once here and shared through $SWITCHYARD_WORKFLOW_BUNDLE_DIR
// (worker/workflow-bundle.ts): every file that starts a worker or replays a history would
// otherwise run webpack for itself, seconds of CPU each.
//
// Files run two at a time (SWITCHYARD_TEST_CONCURRENCY to change it), each in a Temporal
// namespace of its own (test/support/namespace.ts): most of a file's time is spent waiting
// on timers, schedules and the CLI, not on the CPU.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { projectRoot } from '../supervisor/temporal-binary.js';
import { startTestTemporal } from './support/dev-server.js';
import { namespaceForTestFile, PER_FILE_NAMESPACES_ENV } from './support/namespace.js';
import { WORKFLOW_BUNDLE_DIR_ENV, writeWorkflowBundles } from '../worker/workflow-bundle.js';

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
const bundleDir = mkdtempSync(path.join(tmpdir(), 'switchyard-test-bundles-'));
const bundling = Date.now();
// Webpack and the dev server's start-up overlap: neither needs the other.
const [env] = await Promise.all([
  startTestTemporal(files.map(namespaceForTestFile)),
  writeWorkflowBundles(bundleDir).then(() => console.error(`test: workflow bundles built in ${((Date.now() - bundling) / 1000).toFixed(1)} s`)),
]);
console.error(`test: Temporal at ${env.address}; ${files.length} test files, ${concurrency} at a time`);

const code = await new Promise<number>((resolve) => {
  const child = spawn(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, ...files], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, SWITCHYARD_TEST_TEMPORAL_ADDRESS: env.address, [PER_FILE_NAMESPACES_ENV]: '1', [WORKFLOW_BUNDLE_DIR_ENV]: bundleDir },
  });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on('SIGINT', forward).on('SIGTERM', forward);
  child.on('exit', (exitCode, signal) => resolve(exitCode ?? (signal ? 1 : 0)));
});
await env.teardown();
rmSync(bundleDir, { recursive: true, force: true });
process.exit(code);

function findTests(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.test.ts'))
    .map((entry) => path.relative(root, path.join(entry.parentPath, entry.name)))
    .sort();
}
