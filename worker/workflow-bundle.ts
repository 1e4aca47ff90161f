// The workflow code is bundled once per process (a few seconds of webpack), or loaded from
// a prebuilt bundle (`npm run build` writes dist/workflow-bundle.js) in production.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';

let bundle: Promise<WorkflowBundleWithSourceMap | { codePath: string }> | undefined;

export function workflowBundle(): Promise<WorkflowBundleWithSourceMap | { codePath: string }> {
  bundle ??= (async () => {
    const prebuilt = fileURLToPath(new URL('../workflow-bundle.js', import.meta.url));
    if (import.meta.url.endsWith('.js') && existsSync(prebuilt)) return { codePath: prebuilt };
    const extension = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
    return bundleWorkflowCode({
      workflowsPath: fileURLToPath(new URL(`../workflows/index${extension}`, import.meta.url)),
      logger: quietLogger,
    });
  })();
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
