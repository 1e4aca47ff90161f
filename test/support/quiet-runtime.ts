import { DefaultLogger, Runtime } from '@temporalio/worker';

let installed = false;

/** The SDK's INFO and WARN lines (retried activities, worker states) would drown the test report. */
export function installQuietRuntime(): void {
  if (installed) return;
  installed = true;
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  } catch {
    // Already instantiated by an earlier user of the SDK in this process.
  }
}
