// Closing a Temporal client connection while one of its calls is being retried
// (config/temporal-retries.ts): with the SDK's retry interceptor alone a late retry throws
// "Channel has been shut down" from a timer and kills the process; closed through
// closableRetries, the call ends with an error its caller sees and the process lives on.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const FIXTURE = path.join(import.meta.dirname, 'support', 'close-during-retry.ts');

async function closeDuringRetry(mode: 'default' | 'closable'): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', FIXTURE, mode], { timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

test("the SDK's retry interceptor alone: a retry after close() is an uncaught exception", async () => {
  const result = await closeDuringRetry('default');
  assert.notEqual(result.code, 0);
  assert.match(result.stderr, /Channel has been shut down/);
  assert.match(result.stderr, /grpc-retry/);
  assert.doesNotMatch(result.stdout, /exited cleanly/);
});

test('closableRetries: the call fails for its caller, nothing is retried after close, the process lives on', async () => {
  const result = await closeDuringRetry('closable');
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^failed with gRPC status \d+$/m);
  assert.match(result.stdout, /exited cleanly/);
  assert.doesNotMatch(result.stderr, /Channel has been shut down/);
});
