// `npm run build` step: bundles the workflow code once into dist/workflow-bundle.js (and,
// with the OpenTelemetry workflow interceptors, dist/workflow-bundle-tracing.js), so
// production workers start without webpack (worker/workflow-bundle.ts loads them).
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode } from '@temporalio/worker';
import { prebuiltBundleName, tracingInterceptorModule } from './workflow-bundle.js';

mkdirSync(fileURLToPath(new URL('../dist/', import.meta.url)), { recursive: true });
for (const tracing of [false, true]) {
  const { code } = await bundleWorkflowCode({
    workflowsPath: fileURLToPath(new URL('../workflows/index.ts', import.meta.url)),
    ...(tracing ? { workflowInterceptorModules: [tracingInterceptorModule()] } : {}),
  });
  const out = fileURLToPath(new URL(`../dist/${prebuiltBundleName(tracing)}`, import.meta.url));
  writeFileSync(out, code);
  console.log(`wrote ${out} (${(code.length / 1024).toFixed(0)} KiB)`);
}
