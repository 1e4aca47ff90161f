// Activity interceptors of both workers: every log line of an activity (its own and the
// SDK's lifecycle lines) carries the request id of the call that caused it, and on the
// agents queue the executing turns are counted for /metrics (observability/worker-stats.ts).
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import type { AgentSlotTracker } from '../observability/worker-stats.js';

/** The fields of a TurnRequest (or any input that has them) worth carrying into log lines. */
function correlation(args: unknown[]): { requestId?: string; sessionKey?: string; turnId?: string; agentId?: string } {
  const first = args[0];
  if (first === null || typeof first !== 'object') return {};
  const record = first as Record<string, unknown>;
  const pick = (key: string) => (typeof record[key] === 'string' ? { [key]: record[key] as string } : {});
  return { ...pick('requestId'), ...pick('sessionKey'), ...pick('turnId'), ...pick('agentId') };
}

export function correlationInterceptor(): ActivityInterceptorsFactory {
  return () => {
    let fields: Record<string, string> = {};
    return {
      inbound: {
        async execute(input, next) {
          fields = correlation(input.args);
          return next(input);
        },
      },
      outbound: {
        getLogAttributes(attributes, next) {
          return next({ ...attributes, ...fields });
        },
      },
    };
  };
}

/** Counts executing activities by the agent of their input (runAgentTurn's TurnRequest). */
export function agentSlotInterceptor(tracker: AgentSlotTracker): ActivityInterceptorsFactory {
  return () => ({
    inbound: {
      async execute(input, next) {
        const release = tracker.acquire(correlation(input.args).agentId ?? 'unknown');
        try {
          return await next(input);
        } finally {
          release();
        }
      },
    },
  });
}
