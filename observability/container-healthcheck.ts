// The Docker image's HEALTHCHECK: exit 0 when this container does its job, 1 when not.
//   SWITCHYARD_ROLE=api (default): GET /healthz on the API's own port answers 200.
//   SWITCHYARD_ROLE=worker: a worker of THIS container (identity `<pid>@<hostname>`, the SDK's
//   default) polled both task queues within the last 90 s, as Temporal sees it. A worker that
//   lost Temporal, or whose pollers are stuck, turns the container unhealthy.
// Config comes from the same layers as the process it checks (flags, env, files).
import os from 'node:os';
import { Client, Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import { loadConfigFromArgv } from '../cli/commands/config.js';
import { temporalConnectionOptions } from '../config/temporal-connection.js';
import type { Config } from '../config/schema.js';
import { AGENT_TASK_QUEUE, WORKFLOW_TASK_QUEUE } from '../contracts/names.js';

const DEADLINE_MS = 4_000;
const POLLER_FRESH_MS = 90_000;
const { TaskQueueType } = proto.temporal.api.enums.v1;

async function apiHealthy(config: Config): Promise<string | undefined> {
  const host = ['0.0.0.0', '::', ''].includes(config.gateway.bind) ? '127.0.0.1' : config.gateway.bind;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${config.gateway.port}/healthz`;
  const response = await fetch(url, { signal: AbortSignal.timeout(DEADLINE_MS) });
  await response.body?.cancel();
  return response.ok ? undefined : `${url} answered ${response.status}`;
}

async function workerHealthy(config: Config): Promise<string | undefined> {
  const connection = await Connection.connect({ ...temporalConnectionOptions(config), connectTimeout: DEADLINE_MS });
  try {
    const client = new Client({ connection, namespace: config.temporal.namespace });
    const suffix = `@${os.hostname()}`;
    for (const queue of [
      { name: WORKFLOW_TASK_QUEUE, type: TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW },
      { name: AGENT_TASK_QUEUE, type: TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY },
    ]) {
      const response = await client.withDeadline(Date.now() + DEADLINE_MS, () =>
        client.workflowService.describeTaskQueue({ namespace: config.temporal.namespace, taskQueue: { name: queue.name }, taskQueueType: queue.type }),
      );
      const ours = (response.pollers ?? []).some(
        (poller) => (poller.identity ?? '').endsWith(suffix) && Date.now() - Number(poller.lastAccessTime?.seconds ?? 0) * 1000 < POLLER_FRESH_MS,
      );
      if (!ours) return `no poller of this container (${suffix}) on ${queue.name}`;
    }
    return undefined;
  } finally {
    await connection.close();
  }
}

try {
  const { config } = loadConfigFromArgv('switchyard-healthcheck');
  const problem = process.env.SWITCHYARD_ROLE === 'worker' ? await workerHealthy(config) : await apiHealthy(config);
  if (problem) {
    console.error(`unhealthy: ${problem}`);
    process.exit(1);
  }
  process.exit(0);
} catch (error) {
  console.error(`unhealthy: ${(error as Error).message.split('\n')[0]}`);
  process.exit(1);
}
