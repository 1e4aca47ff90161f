// One run of a cron job: started by the schedule `cron:<name>` (workflow id
// `cron:<name>-<time>`) or, for a one-shot, as `cron:<name>` with a start delay. It sends
// the job's prompt into the job's session (the isolated `agent:<id>:cron:<name>`, reset
// first, or a named one), waits for the turn's outcome, records a short result in its memo
// (what `cron runs` shows), and optionally POSTs the result to the job's webhook.
//
// The message's idempotency key is the run's workflow id, so a retried send is
// acknowledged as a duplicate by the session and never runs twice. A failed or timed-out
// turn fails the run, which is what makes `pauseOnFailure` pause the schedule.
import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  TimeoutFailure,
  defineSignal,
  isCancellation,
  proxyActivities,
  setHandler,
  upsertMemo,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { CronActivities, CronTurnOutcome } from '../activities/cron-activities.js';
import type { DeliveryActivities } from '../activities/deliver-result.js';
import { NON_RETRYABLE_DELIVERY_FAILURES } from '../contracts/session.js';
import {
  CRON_DELIVERY_TIMEOUT_MS,
  CRON_SNIPPET_CHARS,
  CRON_TRIGGER_SIGNAL,
  type CronRunInput,
  type CronRunResult,
  type CronRunStatus,
} from '../cron/types.js';
import { WORKFLOW_TASK_QUEUE } from '../contracts/names.js';

/** Signal-with-start of `trigger` starts a delayed one-shot at once; the handler has nothing to do. */
export const cronTriggerSignal = defineSignal(CRON_TRIGGER_SIGNAL);

/** A run's result text is kept up to this size in its workflow result (the full text stays in the session). */
const RESULT_LIMIT = 64 * 1024;

export async function cronRunWorkflow(input: CronRunInput): Promise<CronRunResult> {
  setHandler(cronTriggerSignal, () => undefined);
  const info = workflowInfo();
  // A one-shot's workflow id is reused when the job is added again: its key names the run too.
  const runKey = input.kind === 'at' ? `${info.workflowId}@${info.firstExecutionRunId}` : info.workflowId;
  const messageId = uuid4();
  const deadline = Date.now() + input.timeoutMs;
  const remaining = () => Math.max(1000, deadline - Date.now());
  const base: Pick<CronRunResult, 'job' | 'sessionKey' | 'messageId' | 'runKey'> = { job: input.job, sessionKey: input.sessionKey, messageId, runKey };
  upsertMemo({ status: 'running', sessionKey: input.sessionKey });

  let outcome: CronTurnOutcome | undefined;
  let timedOut = false;
  try {
    const { sendCronMessage } = proxyActivities<CronActivities>({
      taskQueue: WORKFLOW_TASK_QUEUE,
      startToCloseTimeout: '30s',
      scheduleToCloseTimeout: remaining(),
      retry: { initialInterval: '1s', maximumInterval: '10s', nonRetryableErrorTypes: ['CronUnknownAgent', 'CronNoTemporalClient'] },
    });
    await sendCronMessage({ job: input.job, agentId: input.agentId, sessionKey: input.sessionKey, isolated: input.isolated, prompt: input.prompt, runKey, messageId });

    // The activity answers null at the deadline; its own timeout is only a backstop.
    const { awaitCronOutcome } = proxyActivities<CronActivities>({
      taskQueue: WORKFLOW_TASK_QUEUE,
      scheduleToCloseTimeout: remaining() + 30_000,
      heartbeatTimeout: '30s',
      // It heartbeats every poll, so a cancellation reaches it within a second: wait for it.
      cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
      retry: { initialInterval: '1s', maximumInterval: '10s', nonRetryableErrorTypes: ['CronSessionGone', 'CronNoTemporalClient'] },
    });
    outcome = (await awaitCronOutcome({ sessionKey: input.sessionKey, messageId, until: deadline })) ?? undefined;
  } catch (error) {
    if (isCancellation(error)) {
      // Overlap policy cancelOther (or an operator): stop our turn too, then end as cancelled.
      await CancellationScope.nonCancellable(async () => {
        await cancelTurn(input.sessionKey, messageId, `cron run ${info.workflowId} was cancelled`);
        upsertMemo({ status: 'cancelled', reason: 'the run was cancelled' });
      });
      throw error;
    }
    if (isTimeout(error)) {
      timedOut = true;
    } else {
      const reason = describe(error);
      upsertMemo({ status: 'failed', reason: reason.slice(0, CRON_SNIPPET_CHARS) });
      throw ApplicationFailure.nonRetryable(`cron job ${input.job}: ${reason}`, 'CronRunFailed');
    }
  }

  let result: CronRunResult;
  if (timedOut || !outcome) {
    const reason = `no outcome within the run's ${Math.round(input.timeoutMs / 1000)} s timeout`;
    await cancelTurn(input.sessionKey, messageId, `cron job ${input.job}: ${reason}`);
    result = { ...base, status: 'timed-out', reason };
  } else {
    result = { ...base, ...summarize(outcome) };
  }
  upsertMemo({
    status: result.status,
    ...(result.result !== undefined ? { result: result.result.slice(0, CRON_SNIPPET_CHARS) } : {}),
    ...(result.reason !== undefined ? { reason: result.reason.slice(0, CRON_SNIPPET_CHARS) } : {}),
  });

  // Where the result goes besides the session's own events (which every subscriber of the
  // session gets): a webhook. Channel adapters (config deliver.channel, reserved and refused
  // for now) are to deliver from here too, as another activity next to deliverResult.
  if (input.deliver) result.delivered = await deliver(input, result);

  if (result.status === 'timed-out') throw ApplicationFailure.nonRetryable(`cron job ${input.job}: ${result.reason}`, 'CronRunTimedOut');
  if (result.status !== 'completed') {
    throw ApplicationFailure.nonRetryable(`cron job ${input.job}: the turn ${result.status === 'failed' ? 'failed' : 'was cancelled'}: ${result.reason ?? ''}`, 'CronRunFailed', result);
  }
  return result;
}

function summarize(outcome: CronTurnOutcome): Omit<CronRunResult, 'job' | 'sessionKey' | 'messageId' | 'runKey'> {
  const status: CronRunStatus = outcome.type === 'turn.completed' ? 'completed' : outcome.type === 'turn.failed' ? 'failed' : 'cancelled';
  const text = outcome.result;
  return {
    status,
    ...(text !== undefined ? { result: text.slice(0, RESULT_LIMIT), ...(text.length > RESULT_LIMIT ? { resultTruncated: true } : {}) } : {}),
    ...(outcome.reason !== undefined ? { reason: outcome.reason } : {}),
    ...(outcome.errorType !== undefined ? { errorType: outcome.errorType } : {}),
    ...(outcome.costUsd !== undefined ? { costUsd: outcome.costUsd } : {}),
    ...(outcome.durationMs !== undefined ? { durationMs: outcome.durationMs } : {}),
  };
}

async function cancelTurn(sessionKey: string, messageId: string, reason: string): Promise<void> {
  const { cancelCronTurn } = proxyActivities<CronActivities>({
    taskQueue: WORKFLOW_TASK_QUEUE,
    startToCloseTimeout: '10s',
    retry: { maximumAttempts: 3, initialInterval: '1s' },
  });
  await cancelCronTurn({ sessionKey, messageId, reason }).catch(() => false);
}

async function deliver(input: CronRunInput, result: CronRunResult): Promise<CronRunResult['delivered']> {
  const { deliverResult } = proxyActivities<DeliveryActivities>({
    taskQueue: WORKFLOW_TASK_QUEUE,
    startToCloseTimeout: '30s',
    scheduleToCloseTimeout: CRON_DELIVERY_TIMEOUT_MS,
    retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1m', nonRetryableErrorTypes: NON_RETRYABLE_DELIVERY_FAILURES },
  });
  try {
    const receipt = await deliverResult({
      deliveryId: result.runKey,
      target: { url: input.deliver!.url },
      payload: { type: 'cron.run', ...result },
    });
    upsertMemo({ delivered: receipt.status });
    return { status: receipt.status };
  } catch (error) {
    const message = describe(error);
    upsertMemo({ delivered: `failed: ${message}`.slice(0, CRON_SNIPPET_CHARS) });
    return { error: message };
  }
}

function isTimeout(error: unknown): boolean {
  return error instanceof ActivityFailure && error.cause instanceof TimeoutFailure;
}

function describe(error: unknown): string {
  const cause = error instanceof ActivityFailure && error.cause ? error.cause : error;
  return cause instanceof Error ? cause.message : String(cause);
}
