// A client call to a Temporal that is not there, being retried, and the connection closed
// under it: `default` with the SDK's retry interceptor and a plain close(), `closable` with
// config/temporal-retries.ts. Prints how the call ended; a late retry into the shut channel
// shows as an uncaught exception (exit 1 and its stack on stderr).
import { setTimeout as sleep } from 'node:timers/promises';
import { Connection } from '@temporalio/client';
import { closableRetries } from '../../config/temporal-retries.js';

const mode = process.argv[2];
const retries = closableRetries();
const connection = Connection.lazy({ address: '127.0.0.1:1', ...(mode === 'closable' ? { interceptors: retries.interceptors } : {}) });
const call = connection.workflowService.getSystemInfo({}).then(
  () => 'answered',
  (error: { code?: number }) => `failed with gRPC status ${error.code}`,
);
// Past the first failure, so that a retry is scheduled when the connection closes.
await sleep(300);
if (mode === 'closable') await retries.close(connection);
else await connection.close();
console.log(await call);
// Longer than any retry the default backoff would still make here.
await sleep(3000);
console.log('exited cleanly');
