// The workflow code is bundled once per process (a few seconds of webpack), or loaded from
// a prebuilt bundle (`npm run build` writes dist/workflow-bundle.js) in production, or from
// the directory $SWITCHYARD_WORKFLOW_BUNDLE_DIR names (`npm test` builds one per run, so its
// test processes share one webpack run instead of each making their own).
//
// Two variants: plain, and with the OpenTelemetry workflow interceptors compiled in
// (dist/workflow-bundle-tracing.js), used only when tracing is configured, so that a gateway
// without tracing runs exactly the workflow code it always ran.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';

type Bundle = WorkflowBundleWithSourceMap | { codePath: string };
const bundles = new Map<boolean, Promise<Bundle>>();

/** The workflow interceptors of @temporalio/interceptors-opentelemetry, as a module path for the bundler. */
export function tracingInterceptorModule(): string {
  return createRequire(import.meta.url).resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors');
}

export function prebuiltBundleName(tracing: boolean): string {
  return tracing ? 'workflow-bundle-tracing.js' : 'workflow-bundle.js';
}

/** Where prebuilt bundles are read from instead of dist/, whatever the entry's extension. */
export const WORKFLOW_BUNDLE_DIR_ENV = 'SWITCHYARD_WORKFLOW_BUNDLE_DIR';

/** Builds both bundles (plain and with tracing) into `dir`; returns the files written. */
export async function writeWorkflowBundles(dir: string): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  for (const tracing of [false, true]) {
    const { code } = await bundleWorkflowCode({
      workflowsPath: fileURLToPath(new URL('../workflows/index.ts', import.meta.url)),
      ...(tracing ? { workflowInterceptorModules: [tracingInterceptorModule()] } : {}),
      logger: quietLogger,
    });
    const file = path.join(dir, prebuiltBundleName(tracing));
    writeFileSync(file, code);
    written.push(file);
  }
  return written;
}

export function workflowBundle(options: { tracing?: boolean } = {}): Promise<Bundle> {
  const tracing = options.tracing ?? false;
  let bundle = bundles.get(tracing);
  if (!bundle) {
    bundle = (async () => {
      const shared = process.env[WORKFLOW_BUNDLE_DIR_ENV];
      if (shared) return { codePath: path.resolve(shared, prebuiltBundleName(tracing)) };
      const prebuilt = fileURLToPath(new URL(`../${prebuiltBundleName(tracing)}`, import.meta.url));
      if (import.meta.url.endsWith('.js') && existsSync(prebuilt)) return { codePath: prebuilt };
      const extension = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
      return bundleWorkflowCode({
        workflowsPath: fileURLToPath(new URL(`../workflows/index${extension}`, import.meta.url)),
        ...(tracing ? { workflowInterceptorModules: [tracingInterceptorModule()] } : {}),
        logger: quietLogger,
      });
    })();
    bundles.set(tracing, bundle);
  }
  return bundle;
}

const quietLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string) => console.warn(message),
  error: (message: string) => console.error(message),
};
