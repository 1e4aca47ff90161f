// Replays recorded histories of real sessions (test/histories, made by record.ts) against
// today's workflow code: a change that would break running sessions fails here.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { Worker } from '@temporalio/worker';
import { workflowBundle } from '../worker/workflow-bundle.js';
import { installQuietRuntime } from './support/quiet-runtime.js';

installQuietRuntime();
const dir = path.join(import.meta.dirname, 'histories');
const files = readdirSync(dir).filter((name) => name.endsWith('.json')).sort();

test('recorded histories exist', () => {
  assert.ok(files.length >= 2, 'expected recorded session histories in test/histories');
});

for (const file of files) {
  test(`replays ${file} without nondeterminism`, async () => {
    const history = JSON.parse(readFileSync(path.join(dir, file), 'utf8'));
    // The workflow code of today, as a worker runs it (bundled once for all the histories).
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, `replay-${file}`);
  });
}
