// The recorded session histories (made without tracing) replayed with the OpenTelemetry
// workflow interceptors compiled in, as a worker with observability.tracing on runs them:
// turning tracing on must not break running sessions.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { Worker } from '@temporalio/worker';
import { workflowBundle } from '../worker/workflow-bundle.js';
import { installQuietRuntime } from './support/quiet-runtime.js';

installQuietRuntime();
const dir = path.join(import.meta.dirname, 'histories');
const files = readdirSync(dir).filter((name) => name.endsWith('.json')).sort();

for (const file of files) {
  test(`replays ${file} with the tracing interceptors`, async () => {
    const history = JSON.parse(readFileSync(path.join(dir, file), 'utf8'));
    await Worker.runReplayHistory(
      {
        // The bundle a worker with tracing runs: the interceptors compiled in.
        workflowBundle: await workflowBundle({ tracing: true }),
        // Where workflow spans would leave the sandbox; a replay exports nothing.
        sinks: { exporter: { export: { fn: () => undefined } } },
      },
      history,
      `replay-tracing-${file}`,
    );
  });
}
