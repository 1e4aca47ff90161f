// Activities of cron runs (task queue `switchyard`): send a run's prompt into its session,
// wait for the turn that answers it, cancel that turn when the run gives up. They reach the
// session workflow through a Temporal Client and the same SessionService the API uses, so
// a run's message takes exactly the path of any other message (signalWithStart, dedupe by
// idempotency key). Nothing here touches the session workflow's code.
import { ApplicationFailure, Context } from '@temporalio/activity';
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import { EventHub } from '../api/event-hub.js';
import { SessionService } from '../api/session-service.js';
import { agentPolicy } from '../config/agent-policy.js';
import { resolveAgent, type Config } from '../config/schema.js';
import type { DurableSessionEvent } from '../contracts/events.js';

export interface CronSendRequest {
  job: string;
  agentId: string;
  sessionKey: string;
  /** Reset the session first, so the turn starts a fresh Claude session. */
  isolated: boolean;
  prompt: string;
  /** The idempotency key: a retried send is acknowledged as a duplicate, never run twice. */
  runKey: string;
  /** Stable across retries (made by the workflow), so the outcome can be found by it. */
  messageId: string;
}

export interface CronSendReceipt {
  messageId: string;
  duplicate: boolean;
}

export interface CronAwaitRequest {
  sessionKey: string;
  messageId: string;
  /** How often the session's event log is read (default 1 s). */
  pollIntervalMs?: number;
  /** Milliseconds since the epoch: give up (answer null) at this time, the run's deadline. */
  until?: number;
}

export interface CronTurnOutcome {
  type: 'turn.completed' | 'turn.failed' | 'turn.cancelled';
  turnId: string;
  result?: string;
  reason?: string;
  errorType?: string;
  costUsd?: number;
  durationMs?: number;
}

export interface CronCancelRequest {
  sessionKey: string;
  messageId: string;
  reason: string;
}

/** Test seams. `afterSend` runs once the message is accepted; throwing makes the attempt fail after sending. */
export interface CronActivityHooks {
  afterSend?: (request: CronSendRequest, attempt: number) => void | Promise<void>;
}

export interface CronActivityDeps {
  config: () => Config;
  /** The worker's Temporal client; without one, cron runs fail with a clear message. */
  client: Client | undefined;
  hooks?: CronActivityHooks;
}

const TERMINAL = new Set(['turn.completed', 'turn.failed', 'turn.cancelled']);
export const CRON_NO_CLIENT = 'CronNoTemporalClient';
export const CRON_UNKNOWN_AGENT = 'CronUnknownAgent';

export function createCronActivities({ config, client, hooks }: CronActivityDeps) {
  let service: SessionService | undefined;
  const sessions = (): SessionService => {
    if (!client) {
      throw ApplicationFailure.nonRetryable('this worker was created without a Temporal client (createWorkers({ client })); cron runs cannot reach sessions', CRON_NO_CLIENT);
    }
    // The hub stays empty: in the worker, outcomes are read from the session's event log.
    service ??= new SessionService(client, new EventHub(), {
      maxTurnsPerRun: config().worker.maxTurnsPerRun,
      policyOf: (agentId) => agentPolicy(config(), agentId),
    });
    return service;
  };

  return {
    async sendCronMessage(request: CronSendRequest): Promise<CronSendReceipt> {
      const agent = resolveAgent(config(), request.agentId);
      if (!agent) {
        throw ApplicationFailure.nonRetryable(
          `cron job ${request.job}: agent "${request.agentId}" is not configured on this worker (add agents.${request.agentId}, or change the job's agent)`,
          CRON_UNKNOWN_AGENT,
        );
      }
      const service = sessions();
      if (request.isolated) {
        // A reset asked for while the session is idle applies to the next turn: ours.
        try {
          await service.reset(request.sessionKey);
        } catch (error) {
          if (!(error instanceof WorkflowNotFoundError)) throw error; // a new session starts fresh anyway
        }
      }
      const receipt = await service.send({
        sessionKey: request.sessionKey,
        agentId: request.agentId,
        text: request.prompt,
        source: `cron:${request.job}`,
        busy: agent.busy,
        idempotencyKey: request.runKey,
        messageId: request.messageId,
        // The run's workflow id: the turn's log lines name the run that caused them.
        requestId: `cron:${request.runKey}`,
      });
      await hooks?.afterSend?.(request, Context.current().info.attempt);
      return { messageId: receipt.messageId, duplicate: receipt.duplicate };
    },

    /**
     * Reads the session's durable events until the turn that answers `messageId` ends, or
     * answers null at `until`. Heartbeats carry the position read so far, so a retried attempt (another worker, say)
     * carries on from there.
     */
    async awaitCronOutcome(request: CronAwaitRequest): Promise<CronTurnOutcome | null> {
      const ctx = Context.current();
      const pollMs = request.pollIntervalMs ?? 1000;
      let afterSeq = (ctx.info.heartbeatDetails as { afterSeq?: number } | undefined)?.afterSeq ?? 0;
      const service = sessions();
      for (;;) {
        ctx.heartbeat({ afterSeq });
        try {
          for (;;) {
            const page = await service.events(request.sessionKey, { afterSeq, limit: 500 });
            const found = page.events.find((event) => answers(event, request.messageId));
            if (found) return outcomeOf(found);
            afterSeq = page.events.at(-1)?.seq ?? afterSeq;
            if (page.events.length === 0 || afterSeq >= page.lastSeq) break;
          }
        } catch (error) {
          if (error instanceof WorkflowNotFoundError) {
            throw ApplicationFailure.nonRetryable(`session ${request.sessionKey} does not exist (terminated?)`, 'CronSessionGone');
          }
          // The query needs a worker: while none answers, keep waiting (the run's timeout bounds it).
        }
        if (request.until !== undefined && Date.now() >= request.until) return null;
        await ctx.sleep(request.until !== undefined ? Math.max(0, Math.min(pollMs, request.until - Date.now())) : pollMs);
      }
    },

    /** Cancels the session's running turn if it is the one answering `messageId`. */
    async cancelCronTurn(request: CronCancelRequest): Promise<boolean> {
      const service = sessions();
      try {
        const state = await service.state(request.sessionKey);
        if (!state.currentTurn?.messageIds.includes(request.messageId)) return false;
        await service.cancel(request.sessionKey, { reason: request.reason });
        return true;
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) return false;
        throw error;
      }
    },
  };
}

function answers(event: DurableSessionEvent, messageId: string): boolean {
  return TERMINAL.has(event.type) && Array.isArray(event.data.messageIds) && (event.data.messageIds as unknown[]).includes(messageId);
}

function outcomeOf(event: DurableSessionEvent): CronTurnOutcome {
  const data = event.data;
  return {
    type: event.type as CronTurnOutcome['type'],
    turnId: event.turnId,
    ...(typeof data.result === 'string' ? { result: data.result } : {}),
    ...(typeof data.reason === 'string' ? { reason: data.reason } : {}),
    ...(typeof data.errorType === 'string' ? { errorType: data.errorType } : {}),
    ...(typeof data.costUsd === 'number' ? { costUsd: data.costUsd } : {}),
    ...(typeof data.durationMs === 'number' ? { durationMs: data.durationMs } : {}),
  };
}

export type CronActivities = ReturnType<typeof createCronActivities>;
