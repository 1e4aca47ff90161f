// The API's way into sessions: every entry point (webhooks, RPC, cron, channels) sends
// messages, reads state and events, cancels and resets through here.
import { randomUUID } from 'node:crypto';
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import { WorkflowIdConflictPolicy } from '@temporalio/common';
import type { Logger } from 'pino';
import type { DurableSessionEvent, SessionEvent } from '../contracts/events.js';
import { SEARCH_ATTRIBUTES, WORKFLOW_TASK_QUEUE, sessionWorkflowId } from '../contracts/names.js';
import { AGENT_KEY, CHANNEL_KEY, SESSION_KEY_KEY, STATE_KEY } from '../contracts/search-attributes.js';
import type { AgentPolicy, BusyMode, DeliveryRef, SessionMessage, SessionStart, SessionState, SessionStatus } from '../contracts/session.js';
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
import { isTemporalUnavailable, TemporalUnavailableError } from './temporal-errors.js';

export interface SendRequest {
  sessionKey: string;
  agentId: string;
  text: string;
  source: string;
  busy: BusyMode;
  idempotencyKey?: string;
  channel?: string;
  requestId?: string;
  /** Where the turn's result is POSTed once it completes or fails (a reference; see DeliveryRef). */
  delivery?: DeliveryRef;
  /**
   * Skip the quick-ack update even with an idempotency key: one signalWithStart, no round
   * trip through the worker. The workflow still runs a duplicate key once; `duplicate` is
   * then reported false. Webhooks use this with a messageId derived from the key.
   */
  signalOnly?: boolean;
  /** The message id, when the caller needs it stable across retries (cron runs); default a fresh UUID. */
  messageId?: string;
}

export interface SendReceipt {
  accepted: true;
  duplicate: boolean;
  sessionKey: string;
  workflowId: string;
  messageId: string;
  idempotencyKey: string;
}

export interface SessionListFilter {
  agent?: string;
  channel?: string;
  /** The SwitchyardState search attribute. */
  state?: SessionStatus;
  /** Closed runs too (continued-as-new, terminated, ...); only running sessions by default. */
  includeClosed?: boolean;
  /** At most this many sessions. */
  limit: number;
}

export interface SessionSummary {
  sessionKey: string;
  agentId?: string;
  channel?: string;
  state?: string;
  workflowId: string;
  runId: string;
  /** Temporal's execution status: RUNNING, COMPLETED, CONTINUED_AS_NEW, TERMINATED, ... */
  status: string;
  /** Milliseconds since the epoch. */
  startTime: number;
  closeTime?: number;
}

/** What every entry point answers once a message is accepted (the receipt minus the key). */
export interface AcceptedIds {
  accepted: true;
  duplicate: boolean;
  sessionKey: string;
  workflowId: string;
  messageId: string;
}

export function acceptedIds(receipt: SendReceipt): AcceptedIds {
  return {
    accepted: receipt.accepted,
    duplicate: receipt.duplicate,
    sessionKey: receipt.sessionKey,
    workflowId: receipt.workflowId,
    messageId: receipt.messageId,
  };
}

export type TurnOutcome = DurableSessionEvent & { type: 'turn.completed' | 'turn.failed' | 'turn.cancelled' };

/** How long a caller-keyed message waits for the workflow's quick answer before falling back to a signal. */
const QUICK_ACK_MS = 3000;
/** The longest a send waits on Temporal, the quick ack included. */
const SEND_DEADLINE_MS = 6000;
/** What the signal gets at least, after a quick ack that used up its time. */
const MIN_SIGNAL_MS = 3000;
const TERMINAL = new Set(['turn.completed', 'turn.failed', 'turn.cancelled']);

export class SessionService {
  constructor(
    private readonly client: Client,
    private readonly hub: EventHub,
    private readonly options: {
      maxTurnsPerRun: number;
      /** The agent's turn policy from config, stamped on each message (see SessionMessage.policy). */
      policyOf?: (agentId: string) => AgentPolicy | undefined;
      logger?: Logger;
    },
  ) {}

  /**
   * Resolves only once Temporal holds the message. Without a caller key the message gets a
   * fresh one and a signal (one round trip). With a caller key, the running workflow is asked
   * through the quick-ack update so that a duplicate is reported as such; when the workflow
   * is not running or does not answer in time, signalWithStart takes over and the
   * workflow's own dedupe still guarantees the message runs once.
   */
  async send(request: SendRequest): Promise<SendReceipt> {
    const messageId = request.messageId ?? randomUUID();
    const idempotencyKey = request.idempotencyKey ?? messageId;
    const policy = this.options.policyOf?.(request.agentId);
    const message: SessionMessage = {
      messageId,
      idempotencyKey,
      text: request.text,
      source: request.source,
      receivedAt: Date.now(),
      ...(request.requestId ? { requestId: request.requestId } : {}),
      ...(request.delivery ? { delivery: request.delivery } : {}),
      ...(policy ? { policy } : {}),
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

    // Temporal away: the SDK would retry the connection for about 20 s, longer than webhook
    // senders wait (Slack 3 s, GitHub 10 s). A bounded wait answers 503 while they listen.
    const deadline = Date.now() + SEND_DEADLINE_MS;
    if (request.idempotencyKey !== undefined && !request.signalOnly) {
      const answer = await this.quickAck(workflowId, message);
      if (answer) {
        this.options.logger?.info(
          { requestId: request.requestId, sessionKey: request.sessionKey, messageId: answer.messageId, source: request.source, duplicate: answer.duplicate },
          'message accepted',
        );
        return receipt(answer.messageId, answer.duplicate);
      }
    }
    const start: SessionStart = {
      sessionKey: request.sessionKey,
      agentId: request.agentId,
      busy: request.busy,
      ...(request.channel ? { channel: request.channel } : {}),
      maxTurnsPerRun: this.options.maxTurnsPerRun,
    };
    const signalWithStart = () => this.client.workflow.signalWithStart<typeof sessionWorkflow, [SessionMessage]>(SESSION_WORKFLOW_TYPE, {
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
    try {
      await this.client.withDeadline(Math.max(deadline, Date.now() + MIN_SIGNAL_MS), signalWithStart);
    } catch (error) {
      // Retrying with this key is safe whether or not the signal landed.
      if (isTemporalUnavailable(error)) throw new TemporalUnavailableError(idempotencyKey, error);
      throw error;
    }
    this.options.logger?.info({ requestId: request.requestId, sessionKey: request.sessionKey, messageId, source: request.source }, 'message accepted');
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

  /**
   * Sessions from Temporal visibility (eventually consistent: a session started a moment ago
   * may not be listed yet), newest first as the visibility store orders them; one entry per
   * session even when closed runs are included.
   */
  async list(filter: SessionListFilter): Promise<{ sessions: SessionSummary[]; more: boolean }> {
    const conditions = [`WorkflowType = ${quote(SESSION_WORKFLOW_TYPE)}`];
    if (!filter.includeClosed) conditions.push(`ExecutionStatus = 'Running'`);
    if (filter.agent !== undefined) conditions.push(`${SEARCH_ATTRIBUTES.agent} = ${quote(filter.agent)}`);
    if (filter.channel !== undefined) conditions.push(`${SEARCH_ATTRIBUTES.channel} = ${quote(filter.channel)}`);
    if (filter.state !== undefined) conditions.push(`${SEARCH_ATTRIBUTES.state} = ${quote(filter.state)}`);
    const sessions: SessionSummary[] = [];
    const seen = new Set<string>();
    let more = false;
    for await (const info of this.client.workflow.list({ query: conditions.join(' AND '), pageSize: Math.min(filter.limit + 1, 1000) })) {
      if (seen.has(info.workflowId)) continue;
      if (sessions.length >= filter.limit) {
        more = true;
        break;
      }
      seen.add(info.workflowId);
      const attributes = info.typedSearchAttributes;
      const agentId = attributes.get(AGENT_KEY);
      const channel = attributes.get(CHANNEL_KEY);
      const state = attributes.get(STATE_KEY);
      sessions.push({
        sessionKey: attributes.get(SESSION_KEY_KEY) ?? info.workflowId.replace(/^session:/, ''),
        ...(agentId !== undefined ? { agentId } : {}),
        ...(channel !== undefined ? { channel } : {}),
        ...(state !== undefined ? { state } : {}),
        workflowId: info.workflowId,
        runId: info.runId,
        status: info.status.name,
        startTime: info.startTime.getTime(),
        ...(info.closeTime ? { closeTime: info.closeTime.getTime() } : {}),
      });
    }
    return { sessions, more };
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

/** A string literal of Temporal's visibility query language. */
function quote(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

export function isNotFound(error: unknown): boolean {
  return error instanceof WorkflowNotFoundError;
}
