// `npm run build` step: bundles the workflow code once into dist/workflow-bundle.js (and,
// with the OpenTelemetry workflow interceptors, dist/workflow-bundle-tracing.js), so
// production workers start without webpack (worker/workflow-bundle.ts loads them).
import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { writeWorkflowBundles } from './workflow-bundle.js';

for (const file of await writeWorkflowBundles(fileURLToPath(new URL('../dist/', import.meta.url)))) {
  console.log(`wrote ${file} (${(statSync(file).size / 1024).toFixed(0)} KiB)`);
}
