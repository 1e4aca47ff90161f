// The gRPC retries of a Temporal client connection (@temporalio/client's own retry interceptor,
// with its default backoff), made safe to close.
//
// That interceptor schedules each retry with setTimeout, and Connection.close() does not clear
// those timers: a retry that fires after close() calls into the shut channel, which throws
// "Channel has been shut down" inside the timer, an uncaught exception that kills the process
// (or fails the test file that closed it). So closing here first stops new retries from being
// scheduled, waits out the ones already scheduled (each then fails or succeeds on the still
// open channel, and its caller gets that answer), and only then closes the connection.
import { setTimeout as sleep } from 'node:timers/promises';
import { defaultGrpcRetryOptions, makeGrpcRetryInterceptor, type Connection } from '@temporalio/client';

/** What Connection.connect / Connection.lazy take, and how to close what they return. */
export interface ClosableRetries {
  /** For ConnectionOptions.interceptors, in place of the SDK's default retry interceptor. */
  interceptors: ReturnType<typeof makeGrpcRetryInterceptor>[];
  /**
   * Stops retrying, lets the retries already scheduled run (at most `maxWaitMs`), then closes
   * `connection`. A process that exits right after may pass a short wait: its timers die with it.
   */
  close(connection: Connection, options?: { maxWaitMs?: number }): Promise<void>;
}

export function closableRetries(): ClosableRetries {
  const retry = defaultGrpcRetryOptions();
  let closing = false;
  /** When the last retry scheduled so far fires (ms since the epoch). */
  let lastRetryAt = 0;
  const interceptor = makeGrpcRetryInterceptor({
    retryableDecider: (attempt, status) => !closing && retry.retryableDecider(attempt, status),
    delayFunction: (attempt, status) => {
      const delay = retry.delayFunction(attempt, status);
      lastRetryAt = Math.max(lastRetryAt, Date.now() + delay);
      return delay;
    },
  });
  return {
    interceptors: [interceptor],
    async close(connection, options = {}) {
      closing = true;
      // A little past the last timer, so that its call is started before the channel shuts.
      const wait = Math.min(lastRetryAt - Date.now() + 50, options.maxWaitMs ?? Number.POSITIVE_INFINITY);
      if (wait > 0) await sleep(wait);
      await connection.close();
    },
  };
}
