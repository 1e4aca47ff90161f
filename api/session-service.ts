// The API's way into sessions: every entry point (webhooks, RPC, cron, channels) sends
// messages, reads state and events, cancels and resets through here.
import { randomUUID } from 'node:crypto';
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import { WorkflowIdConflictPolicy } from '@temporalio/common';
import type { DurableSessionEvent, SessionEvent } from '../contracts/events.js';
import { WORKFLOW_TASK_QUEUE, sessionWorkflowId } from '../contracts/names.js';
import { AGENT_KEY, CHANNEL_KEY, SESSION_KEY_KEY, STATE_KEY } from '../contracts/search-attributes.js';
import type { BusyMode, SessionMessage, SessionStart, SessionState } from '../contracts/session.js';
import type { sessionWorkflow } from '../workflows/session.js';
import {
  SESSION_WORKFLOW_TYPE,
  cancelSignal,
  eventsQuery,
  messageSignal,
  resetSignal,
  stateQuery,
  submitUpdate,
  type CancelRequest,
  type EventsPage,
  type EventsRequest,
} from '../workflows/session-definitions.js';
import type { EventHub } from './event-hub.js';

export interface SendRequest {
  sessionKey: string;
  agentId: string;
  text: string;
  source: string;
  busy: BusyMode;
  idempotencyKey?: string;
  channel?: string;
  requestId?: string;
}

export interface SendReceipt {
  accepted: true;
  duplicate: boolean;
  sessionKey: string;
  workflowId: string;
  messageId: string;
  idempotencyKey: string;
}

export type TurnOutcome = DurableSessionEvent & { type: 'turn.completed' | 'turn.failed' | 'turn.cancelled' };

/** How long a caller-keyed message waits for the workflow's quick answer before falling back to a signal. */
const QUICK_ACK_MS = 3000;
const TERMINAL = new Set(['turn.completed', 'turn.failed', 'turn.cancelled']);

export class SessionService {
  constructor(
    private readonly client: Client,
    private readonly hub: EventHub,
    private readonly options: { maxTurnsPerRun: number },
  ) {}

  /**
   * Resolves only once Temporal holds the message. Without a caller key the message gets a
   * fresh one and a signal (one round trip). With a caller key, the running workflow is asked
   * through the quick-ack update so that a duplicate is reported as such; when the workflow
   * is not running or does not answer in time, signalWithStart takes over and the
   * workflow's own dedupe still guarantees the message runs once.
   */
  async send(request: SendRequest): Promise<SendReceipt> {
    const messageId = randomUUID();
    const idempotencyKey = request.idempotencyKey ?? messageId;
    const message: SessionMessage = {
      messageId,
      idempotencyKey,
      text: request.text,
      source: request.source,
      receivedAt: Date.now(),
      ...(request.requestId ? { requestId: request.requestId } : {}),
    };
    const workflowId = sessionWorkflowId(request.sessionKey);
    const receipt = (id: string, duplicate: boolean): SendReceipt => ({
      accepted: true,
      duplicate,
      sessionKey: request.sessionKey,
      workflowId,
      messageId: id,
      idempotencyKey,
    });

    if (request.idempotencyKey !== undefined) {
      const answer = await this.quickAck(workflowId, message);
      if (answer) return receipt(answer.messageId, answer.duplicate);
    }
    const start: SessionStart = {
      sessionKey: request.sessionKey,
      agentId: request.agentId,
      busy: request.busy,
      ...(request.channel ? { channel: request.channel } : {}),
      maxTurnsPerRun: this.options.maxTurnsPerRun,
    };
    await this.client.workflow.signalWithStart<typeof sessionWorkflow, [SessionMessage]>(SESSION_WORKFLOW_TYPE, {
      workflowId,
      taskQueue: WORKFLOW_TASK_QUEUE,
      args: [start],
      signal: messageSignal,
      signalArgs: [message],
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      typedSearchAttributes: [
        { key: AGENT_KEY, value: request.agentId },
        { key: SESSION_KEY_KEY, value: request.sessionKey },
        { key: STATE_KEY, value: 'idle' },
        ...(request.channel ? [{ key: CHANNEL_KEY, value: request.channel }] : []),
      ],
    });
    return receipt(messageId, false);
  }

  private async quickAck(workflowId: string, message: SessionMessage) {
    try {
      return await this.client.withDeadline(Date.now() + QUICK_ACK_MS, () =>
        this.client.workflow.getHandle(workflowId).executeUpdate(submitUpdate, { args: [message] }),
      );
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return undefined;
      // No worker in time, too many updates in flight, a closed run: the signal path is durable.
      return undefined;
    }
  }

  async state(sessionKey: string): Promise<SessionState> {
    return this.client.workflow.getHandle(sessionWorkflowId(sessionKey)).query(stateQuery);
  }

  async events(sessionKey: string, request: EventsRequest = {}): Promise<EventsPage> {
    return this.client.workflow.getHandle(sessionWorkflowId(sessionKey)).query(eventsQuery, request);
  }

  async cancel(sessionKey: string, request: CancelRequest = {}): Promise<void> {
    await this.client.workflow.getHandle(sessionWorkflowId(sessionKey)).signal(cancelSignal, request);
  }

  async reset(sessionKey: string): Promise<void> {
    await this.client.workflow.getHandle(sessionWorkflowId(sessionKey)).signal(resetSignal);
  }

  /**
   * Waits for the turn that answers `messageId`: live events first, and the workflow's
   * event log now and then in case a live event was missed. Undefined on timeout.
   */
  async waitForOutcome(sessionKey: string, messageId: string, timeoutMs: number): Promise<TurnOutcome | undefined> {
    const answers = (event: SessionEvent): event is TurnOutcome =>
      TERMINAL.has(event.type) && Array.isArray(event.data.messageIds) && event.data.messageIds.includes(messageId);
    return new Promise<TurnOutcome | undefined>((resolve) => {
      let settled = false;
      let afterSeq = 0;
      const finish = (outcome: TurnOutcome | undefined) => {
        if (settled) return;
        settled = true;
        unsubscribe();
        clearTimeout(deadline);
        clearTimeout(poller);
        resolve(outcome);
      };
      const unsubscribe = this.hub.subscribe(sessionKey, (event) => {
        if (answers(event)) finish(event);
      });
      const deadline = setTimeout(() => finish(undefined), timeoutMs);
      let poller: NodeJS.Timeout | undefined;
      const poll = async (delayMs: number) => {
        try {
          for (;;) {
            const page = await this.events(sessionKey, { afterSeq, limit: 1000 });
            const found = page.events.find(answers);
            if (found) return finish(found);
            afterSeq = page.events.at(-1)?.seq ?? afterSeq;
            if (page.events.length === 0 || afterSeq >= page.lastSeq) break;
          }
        } catch {
          // The worker may be away; live events or the next poll will tell.
        }
        if (!settled) poller = setTimeout(() => void poll(Math.min(delayMs * 2, 5000)), delayMs);
      };
      void poll(500);
    });
  }
}

export function isNotFound(error: unknown): boolean {
  return error instanceof WorkflowNotFoundError;
}
