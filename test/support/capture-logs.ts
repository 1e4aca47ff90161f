// Log lines of a whole gateway in one array, for tests that read them. Import this module
// FIRST in a test file: it installs the process's Temporal Runtime (once per process) with
// the worker's pino logger writing here, before test/support/gateway.ts would install its
// quiet one.
import { Writable } from 'node:stream';
import { Runtime } from '@temporalio/worker';
import { createLogger } from '../../observability/logger.js';
import { PinoSdkLogger } from '../../observability/temporal-logger.js';

export type LogLine = Record<string, unknown> & { name?: string; msg?: string };

export const logLines: LogLine[] = [];

const destination = new Writable({
  write(chunk, _encoding, done) {
    for (const text of String(chunk).split('\n')) if (text.trim()) logLines.push(JSON.parse(text) as LogLine);
    done();
  },
});

/** The API's logger, as api/main.ts makes it, writing to `logLines`. */
export const apiLogger = createLogger({ name: 'api', level: 'info', destination });

Runtime.install({ logger: new PinoSdkLogger(createLogger({ name: 'worker', level: 'info', destination })) });
