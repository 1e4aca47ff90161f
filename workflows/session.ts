// The session workflow: one per conversation (`session:<sessionKey>`). It queues messages,
// runs one agent turn at a time, keeps the durable event log, and continues as new before
// its history grows large, carrying everything that matters.
import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  continueAsNew,
  isCancellation,
  log as workflowLog,
  proxyActivities,
  patched,
  proxyLocalActivities,
  setHandler,
  TimeoutFailure,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
  allHandlersFinished,
} from '@temporalio/workflow';
import type { DurableEventType, DurableSessionEvent } from '../contracts/events.js';
import { AGENT_TASK_QUEUE, WORKFLOW_TASK_QUEUE } from '../contracts/names.js';
import { AGENT_KEY, CHANNEL_KEY, SESSION_KEY_KEY, STATE_KEY } from '../contracts/search-attributes.js';
import {
  NON_RETRYABLE_DELIVERY_FAILURES,
  NON_RETRYABLE_TURN_FAILURES,
  type BusyMode,
  type DeliveryRequest,
  type SessionMessage,
  type SessionStart,
  type SessionState,
  type SessionStatus,
  type SubmitResult,
  type TurnResult,
} from '../contracts/session.js';
import type { AgentActivities } from '../activities/agent-activities.js';
import type { DeliveryActivities } from '../activities/deliver-result.js';
import type { LightActivities, LocalActivities } from '../activities/light-activities.js';
import type { TurnPolicy } from '../activities/turn-policy.js';
import { EventLog } from './event-log.js';
import { RecentKeys } from './recent-keys.js';
import {
  cancelSignal,
  eventsQuery,
  messageSignal,
  resetSignal,
  stateQuery,
  submitUpdate,
  type CancelRequest,
} from './session-definitions.js';

export const DEFAULT_MAX_TURNS_PER_RUN = 200;
/** Queued events carry the message text up to this many characters. */
const QUEUED_TEXT_LIMIT = 4000;
/** A dead worker is noticed after this long without a heartbeat, and the turn is retried. */
const TURN_HEARTBEAT_TIMEOUT = '15s';

const { publishEvents } = proxyActivities<LightActivities>({
  taskQueue: WORKFLOW_TASK_QUEUE,
  startToCloseTimeout: '10s',
  // Live delivery is best-effort: a subscriber that misses an event reads it back by seq.
  retry: { maximumAttempts: 3, initialInterval: '200ms' },
});

// The same publication as a local activity: it runs inside the workflow task that recorded
// the events, so a turn's outcome reaches subscribers without a round trip through the task
// queue (and without the extra workflow task each activity's completion brings). One short
// attempt: a workflow task waits for its local activities, and live delivery is best-effort.
// Histories recorded before this patch keep the activity.
const PUBLISH_LOCALLY = 'publish-events-locally';
const { publishEvents: publishEventsLocally } = proxyLocalActivities<LightActivities>({
  startToCloseTimeout: '2s',
  retry: { maximumAttempts: 1 },
});

// The events that open a turn (its messages' turn.queued, its turn.started) are published by
// a regular activity scheduled beside the agent's. A workflow task completes only once its
// local activities have, so publishing them locally held the agent's activity back by one or
// two local round trips on every turn of an idle session; a regular activity holds nothing
// back, and runs at once even while every agent slot is taken. Histories from before keep
// the local activity.
const START_EVENTS_BESIDE_TURN = 'start-events-beside-turn';

// Result delivery: a receiver that is down gets the result when it returns, within a day.
const { deliverResult } = proxyActivities<DeliveryActivities>({
  taskQueue: WORKFLOW_TASK_QUEUE,
  startToCloseTimeout: '30s',
  scheduleToCloseTimeout: '24h',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10m', nonRetryableErrorTypes: NON_RETRYABLE_DELIVERY_FAILURES },
});

const { beginTurn: readTurnPolicy, currentTime } = proxyLocalActivities<LocalActivities>({
  startToCloseTimeout: '5s',
});

interface RunningTurn {
  turnId: string;
  messageIds: string[];
  startedAt: number;
  scope: CancellationScope;
  cancelReason?: string;
}

export async function sessionWorkflow(start: SessionStart): Promise<void> {
  const { sessionKey, agentId } = start;
  const carried = start.carried;
  const maxTurnsPerRun = start.maxTurnsPerRun ?? DEFAULT_MAX_TURNS_PER_RUN;

  const inbox: SessionMessage[] = [...(carried?.inbox ?? [])];
  const keys = new RecentKeys(carried?.recentKeys);
  const log = new EventLog(sessionKey, carried?.events ?? [], carried?.nextSeq ?? 1);
  let claudeSessionId = carried?.claudeSessionId ?? uuid4();
  let claudeSessionFresh = carried?.claudeSessionFresh ?? true;
  let turnCount = carried?.turnCount ?? 0;
  let totalCostUsd = carried?.totalCostUsd ?? 0;
  let busy: BusyMode = start.busy;
  let current: RunningTurn | undefined;
  let resetRequested = false;
  let turnsThisRun = 0;
  let status: SessionStatus | undefined;
  /** The main loop has stopped taking messages: the run is about to continue as new. */
  let closing = false;

  // Durable events are published live in order, without holding up the turns.
  let unpublished: ReturnType<EventLog['append']>[] = [];
  let publishing: Promise<void> = Promise.resolve();
  const record = (type: DurableEventType, turnId: string, ts: number, data: Record<string, unknown>): DurableSessionEvent => {
    const event = log.append(type, turnId, ts, data);
    unpublished.push(event);
    return event;
  };
  const flush = (through?: typeof publishEvents) => {
    if (unpublished.length === 0) return;
    const batch = unpublished;
    unpublished = [];
    const publish = through ?? (patched(PUBLISH_LOCALLY) ? publishEventsLocally : publishEvents);
    publishing = publishing.then(() => publish(batch)).catch(() => undefined);
  };

  // Result deliveries run beside the turns, never holding them up. Only messages that ask
  // for one (`delivery`) add commands, so histories recorded without them replay unchanged.
  const deliveries = new Map<string, DeliveryRequest>();
  const startDelivery = (request: DeliveryRequest) => {
    deliveries.set(request.deliveryId, request);
    void deliverResult(request)
      .catch(() => undefined)
      .finally(() => deliveries.delete(request.deliveryId));
  };
  const deliverOutcome = (messages: SessionMessage[], event: DurableSessionEvent) => {
    const targets = new Map<string, SessionMessage[]>();
    for (const message of messages) {
      if (!message.delivery) continue;
      const key = message.delivery.source !== undefined ? `source:${message.delivery.source}` : `url:${message.delivery.url}`;
      targets.set(key, [...(targets.get(key) ?? []), message]);
    }
    let index = 0;
    for (const asked of targets.values()) {
      startDelivery({
        deliveryId: `dlv_${event.turnId}_${index++}`,
        target: asked[0]!.delivery!,
        payload: {
          type: event.type,
          status: event.type.slice('turn.'.length),
          sessionKey,
          workflowId: workflowInfo().workflowId,
          turnId: event.turnId,
          seq: event.seq,
          ts: event.ts,
          messages: asked.map((m) => ({ messageId: m.messageId, idempotencyKey: m.idempotencyKey, source: m.source })),
          ...event.data,
        },
      });
    }
  };
  for (const request of carried?.deliveries ?? []) startDelivery(request);

  const setStatus = (next: SessionStatus) => {
    if (next === status) return;
    status = next;
    upsertSearchAttributes([{ key: STATE_KEY, value: next }]);
  };

  const accept = (message: SessionMessage): SubmitResult => {
    const original = keys.get(message.idempotencyKey);
    if (original !== undefined) return { messageId: original, duplicate: true };
    keys.add(message.idempotencyKey, message.messageId);
    inbox.push(message);
    record('turn.queued', message.messageId, message.receivedAt, {
      messageId: message.messageId,
      source: message.source,
      queueLength: inbox.length,
      text: message.text.slice(0, QUEUED_TEXT_LIMIT),
      ...(message.text.length > QUEUED_TEXT_LIMIT ? { textTruncated: true } : {}),
      ...(message.requestId ? { requestId: message.requestId } : {}),
    });
    // Workflow log lines go through a sink: no command, nothing replayed, not logged on replay.
    workflowLog.info('message queued', { sessionKey, messageId: message.messageId, source: message.source, requestId: message.requestId });
    // With no turn running, the main loop starts one in this workflow task and publishes this
    // event with the turn's start; while one runs, publish it now.
    if (current !== undefined || closing || !patched(START_EVENTS_BESIDE_TURN)) flush();
    if (current && busy === 'interrupt' && current.cancelReason === undefined) {
      current.cancelReason = `interrupted by message ${message.messageId}`;
      current.scope.cancel();
    }
    return { messageId: message.messageId, duplicate: false };
  };

  setHandler(messageSignal, (message) => void accept(message));
  setHandler(submitUpdate, accept, { validator: validateMessage });
  setHandler(cancelSignal, async (request?: CancelRequest) => {
    const reason = request?.reason ?? 'cancelled on request';
    if (request?.clearQueue && inbox.length > 0) {
      const dropped = inbox.splice(0);
      const ts = await currentTime();
      for (const message of dropped) {
        const event = record('turn.cancelled', message.messageId, ts, { messageIds: [message.messageId], reason, queued: true });
        if (message.delivery) deliverOutcome([message], event);
      }
      flush();
    }
    if (current && current.cancelReason === undefined) {
      current.cancelReason = reason;
      current.scope.cancel();
    }
  });
  setHandler(resetSignal, () => {
    resetRequested = true;
  });
  setHandler(stateQuery, (): SessionState => ({
    sessionKey,
    agentId,
    status: current ? (current.cancelReason !== undefined ? 'cancelling' : 'running') : 'idle',
    queueLength: inbox.length,
    ...(current ? { currentTurn: { turnId: current.turnId, messageIds: current.messageIds, startedAt: current.startedAt } } : {}),
    claudeSessionId: claudeSessionFresh ? undefined : claudeSessionId,
    turnCount,
    totalCostUsd,
    lastSeq: log.lastSeq,
  }));
  setHandler(eventsQuery, (request) => log.page(request));

  upsertSearchAttributes([
    { key: AGENT_KEY, value: agentId },
    { key: SESSION_KEY_KEY, value: sessionKey },
    ...(start.channel ? [{ key: CHANNEL_KEY, value: start.channel }] : []),
  ]);
  setStatus(inbox.length > 0 ? 'running' : 'idle');

  const shouldContinueAsNew = () => turnsThisRun >= maxTurnsPerRun || workflowInfo().continueAsNewSuggested;

  // The policy the API stamped on the newest message, and for the time the moment the turn
  // became due: the later of the messages' receipt and the previous event (the turn starts in
  // the workflow task that follows both). No local activity, so no extra workflow task before
  // the agent's activity is scheduled. Messages from before stamping ask the local activity.
  async function beginTurn(batch: SessionMessage[]): Promise<TurnPolicy> {
    const stamped = batch.findLast((m) => m.policy !== undefined)?.policy;
    if (!stamped) return readTurnPolicy(agentId);
    return { ...stamped, now: Math.max(log.lastTs, ...batch.map((m) => m.receivedAt)) };
  }

  async function runTurn(batch: SessionMessage[]): Promise<void> {
    const policy = await beginTurn(batch);
    busy = policy.busy;
    const first = batch[0]!;
    const turnId = first.messageId;
    const messageIds = batch.map((m) => m.messageId);
    const scope = new CancellationScope();
    current = { turnId, messageIds, startedAt: policy.now, scope };
    setStatus('running');
    record('turn.started', turnId, policy.now, { messageIds, claudeSessionId, resumed: !claudeSessionFresh });
    workflowLog.info('turn started', { sessionKey, turnId, messageIds, requestId: first.requestId });
    if (patched(START_EVENTS_BESIDE_TURN)) flush(publishEvents);
    else flush();

    const { runAgentTurn } = agentActivities(policy);
    let outcome: DurableSessionEvent;
    try {
      const result: TurnResult = await scope.run(() =>
        runAgentTurn({
          sessionKey,
          agentId,
          turnId,
          prompt: batch.map((m) => m.text).join('\n\n'),
          messageIds,
          claudeSessionId,
          freshSession: claudeSessionFresh,
          ...(first.requestId ? { requestId: first.requestId } : {}),
        }),
      );
      claudeSessionId = result.claudeSessionId;
      claudeSessionFresh = false;
      turnCount += 1;
      totalCostUsd += result.costUsd;
      outcome = record('turn.completed', turnId, result.finishedAt, {
        messageIds,
        result: result.text,
        costUsd: result.costUsd,
        usage: result.usage,
        numTurns: result.numTurns,
        durationMs: result.durationMs,
        // Spawn to exit of the claude process, as the activity measured it (the gateway's overhead is the rest).
        processMs: result.finishedAt - result.startedAt,
        claudeSessionId: result.claudeSessionId,
        ...(result.sessionRestarted ? { sessionRestarted: true, note: 'the previous Claude session was not found; a fresh one was started' } : {}),
        // The tool audit (calls, errors, policy denials): data only, so no new commands to replay.
        ...(result.tools?.length ? { tools: result.tools, ...(result.toolsOmitted ? { toolsOmitted: result.toolsOmitted } : {}) } : {}),
      });
    } catch (err) {
      const ts = await currentTime();
      if (isCancellation(err)) {
        outcome = record('turn.cancelled', turnId, ts, { messageIds, reason: current.cancelReason ?? 'cancelled' });
      } else {
        outcome = record('turn.failed', turnId, ts, { messageIds, ...describeFailure(err, policy) });
      }
    } finally {
      current = undefined;
    }
    workflowLog.info('turn ended', { sessionKey, turnId, outcome: outcome.type, requestId: first.requestId });
    if (batch.some((m) => m.delivery)) deliverOutcome(batch, outcome);
    if (resetRequested) {
      resetRequested = false;
      claudeSessionId = uuid4();
      claudeSessionFresh = true;
    }
    turnsThisRun += 1;
    setStatus(inbox.length > 0 ? 'running' : 'idle');
    flush();
  }

  // A reset asked for while idle applies to the next turn.
  const applyIdleReset = () => {
    if (resetRequested && !current) {
      resetRequested = false;
      claudeSessionId = uuid4();
      claudeSessionFresh = true;
    }
  };

  while (!shouldContinueAsNew()) {
    await condition(() => inbox.length > 0 || resetRequested || shouldContinueAsNew());
    applyIdleReset();
    if (inbox.length === 0) continue;
    const batch = busy === 'collect' ? inbox.splice(0) : inbox.splice(0, 1);
    await runTurn(batch);
  }

  closing = true;
  await condition(allHandlersFinished);
  applyIdleReset();
  flush();
  await publishing;
  const { events, nextSeq } = log.snapshot();
  await continueAsNew<typeof sessionWorkflow>({
    ...start,
    busy,
    carried: {
      inbox,
      claudeSessionId,
      claudeSessionFresh,
      recentKeys: keys.snapshot(),
      events,
      nextSeq,
      turnCount,
      totalCostUsd,
      ...(deliveries.size > 0 ? { deliveries: [...deliveries.values()] } : {}),
    },
  });
}

function agentActivities(policy: TurnPolicy) {
  return proxyActivities<AgentActivities>({
    taskQueue: AGENT_TASK_QUEUE,
    startToCloseTimeout: policy.turnTimeoutMs,
    scheduleToCloseTimeout: policy.turnTimeoutMs,
    heartbeatTimeout: TURN_HEARTBEAT_TIMEOUT,
    // The next turn must not start while the CLI of a cancelled one may still be running.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: {
      maximumAttempts: policy.retry.maximumAttempts,
      initialInterval: policy.retry.initialIntervalMs,
      maximumInterval: policy.retry.maximumIntervalMs,
      backoffCoefficient: 2,
      nonRetryableErrorTypes: NON_RETRYABLE_TURN_FAILURES,
    },
  });
}

function describeFailure(err: unknown, policy: TurnPolicy): { reason: string; errorType: string } {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) {
    return { reason: cause.message, errorType: cause.type ?? 'ApplicationFailure', ...toolAuditOf(cause.details) };
  }
  if (cause instanceof TimeoutFailure) {
    return {
      reason: `the turn did not finish within its ${Math.round(policy.turnTimeoutMs / 1000)} s limit (${cause.timeoutType}), retries included`,
      errorType: 'TurnTimedOut',
    };
  }
  return { reason: cause instanceof Error ? cause.message : String(cause), errorType: 'Unknown' };
}

/** The tool audit a failed turn's last attempt carried in its failure details (claude-hooks/tool-audit.ts). */
function toolAuditOf(details: unknown[] | null | undefined): { tools?: unknown[]; toolsOmitted?: number } {
  const audit = details?.[0] as { tools?: unknown; toolsOmitted?: unknown } | undefined;
  if (!audit || !Array.isArray(audit.tools) || audit.tools.length === 0) return {};
  return { tools: audit.tools, ...(typeof audit.toolsOmitted === 'number' ? { toolsOmitted: audit.toolsOmitted } : {}) };
}

function validateMessage(message: SessionMessage): void {
  if (typeof message?.text !== 'string' || message.text.length === 0) throw new Error('message.text must be a non-empty string');
  if (typeof message.messageId !== 'string' || typeof message.idempotencyKey !== 'string') {
    throw new Error('message.messageId and message.idempotencyKey must be strings');
  }
}
