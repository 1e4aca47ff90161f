// The two workers of DESIGN.md: `switchyard` (workflows and light activities) and
// `switchyard-agents` (Claude CLI runs, concurrency capped by config).
import type { Client } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { AGENT_TASK_QUEUE, WORKFLOW_TASK_QUEUE } from '../contracts/names.js';
import type { Config } from '../config/schema.js';
import type { EventPublisher } from '../activities/event-publisher.js';
import { createAgentActivities } from '../activities/agent-activities.js';
import { createCronActivities, type CronActivityHooks } from '../activities/cron-activities.js';
import { createDeliveryActivities } from '../activities/deliver-result.js';
import { createLightActivities, createLocalActivities } from '../activities/light-activities.js';
import type { AgentSlotTracker } from '../observability/worker-stats.js';
import type { Tracing } from '../observability/tracing.js';
import { agentSlotInterceptor, correlationInterceptor } from './activity-interceptors.js';
import { workflowBundle } from './workflow-bundle.js';
import type { HookEndpoint } from '../claude-hooks/turn-hooks.js';

export interface WorkerOptions {
  connection: NativeConnection;
  namespace: string;
  config: () => Config;
  publisher: EventPublisher;
  baseDir: string;
  env: NodeJS.ProcessEnv;
  /** How long a stopping worker lets running turns finish before cancelling them. */
  shutdownGraceMs?: number;
  /** A Temporal client for the cron activities (they send into sessions); without one, cron runs fail. */
  client?: Client;
  /** Test seams of the cron activities. */
  cronHooks?: CronActivityHooks;
  /** Where turns' Claude hooks post, and the key of their tokens (claude-hooks/, docs/hooks.md). */
  claudeHooks?: HookEndpoint;
  /** The gateway's /rpc URL for agents with `gatewayTools`, when the config's port is not it (a test's port 0). */
  gatewayRpcUrl?: string;
  /** Counts executing turns for /metrics (observability/worker-stats.ts). */
  agentSlots?: AgentSlotTracker;
  /** OpenTelemetry interceptors and the workflow span sink; undefined: tracing off. */
  tracing?: Tracing;
}

export async function createWorkers(options: WorkerOptions): Promise<Worker[]> {
  const { connection, namespace, config, publisher } = options;
  const deps = { config, publisher };
  const tracing = options.tracing;
  const workflows = await Worker.create({
    connection,
    namespace,
    taskQueue: WORKFLOW_TASK_QUEUE,
    workflowBundle: await workflowBundle({ tracing: tracing !== undefined }),
    interceptors: { activity: [...(tracing?.activityInterceptors ?? []), correlationInterceptor()] },
    ...(tracing ? { sinks: tracing.workflowSinks } : {}),
    activities: {
      ...createLightActivities(deps),
      ...createLocalActivities(deps),
      ...createDeliveryActivities(deps),
      ...createCronActivities({ config, client: options.client, ...(options.cronHooks ? { hooks: options.cronHooks } : {}) }),
    },
    // A cron run waiting on its turn heartbeats every poll; keep the heartbeats (and so a
    // cancellation by overlap cancelOther) prompt.
    maxHeartbeatThrottleInterval: '1s',
    defaultHeartbeatThrottleInterval: '1s',
  });
  const agents = await Worker.create({
    connection,
    namespace,
    taskQueue: AGENT_TASK_QUEUE,
    activities: createAgentActivities({
      ...deps,
      baseDir: options.baseDir,
      env: options.env,
      ...(options.claudeHooks ? { hooks: options.claudeHooks } : {}),
      ...(options.gatewayRpcUrl ? { gatewayRpcUrl: options.gatewayRpcUrl } : {}),
    }),
    interceptors: {
      activity: [...(tracing?.activityInterceptors ?? []), correlationInterceptor(), ...(options.agentSlots ? [agentSlotInterceptor(options.agentSlots)] : [])],
    },
    maxConcurrentActivityTaskExecutions: config().worker.maxConcurrentTurns,
    // Cancellation reaches an activity with its heartbeat: keep both prompt.
    maxHeartbeatThrottleInterval: '1s',
    defaultHeartbeatThrottleInterval: '1s',
    shutdownGraceTime: options.shutdownGraceMs ?? 25_000,
  });
  return [workflows, agents];
}

/** Runs the workers until `shutdown()` is called on them (or the process gets SIGTERM). */
export async function runWorkers(workers: Worker[]): Promise<void> {
  await Promise.all(workers.map((worker) => worker.run()));
}
