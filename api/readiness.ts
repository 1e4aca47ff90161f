// /readyz: is Temporal reachable, and is a worker polling each task queue?
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import { AGENT_TASK_QUEUE, WORKFLOW_TASK_QUEUE } from '../contracts/names.js';

export interface Check {
  ok: boolean;
  detail: string;
}
export interface Readiness {
  ready: boolean;
  checks: { temporal: Check; worker: Check; channels: Check };
}

const CHECK_DEADLINE_MS = 2000;
/** A poller is "live" if it polled this recently (a long poll lasts about a minute). */
const POLLER_FRESH_MS = 90_000;
const { TaskQueueType } = proto.temporal.api.enums.v1;

export async function checkReadiness(client: Client, namespace: string, channels: () => Check): Promise<Readiness> {
  const temporalCheck = await checkTemporal(client);
  const workerCheck = temporalCheck.ok ? await checkWorkers(client, namespace) : { ok: false, detail: 'unknown: Temporal is unreachable' };
  const channelCheck = channels();
  return {
    ready: temporalCheck.ok && workerCheck.ok && channelCheck.ok,
    checks: { temporal: temporalCheck, worker: workerCheck, channels: channelCheck },
  };
}

async function checkTemporal(client: Client): Promise<Check> {
  try {
    await client.withDeadline(Date.now() + CHECK_DEADLINE_MS, () => client.workflowService.getSystemInfo({}));
    return { ok: true, detail: 'reachable' };
  } catch (error) {
    return { ok: false, detail: `unreachable: ${(error as Error).message.split('\n')[0]}` };
  }
}

async function checkWorkers(client: Client, namespace: string): Promise<Check> {
  const queues = [
    { name: WORKFLOW_TASK_QUEUE, type: TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW },
    { name: AGENT_TASK_QUEUE, type: TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY },
  ];
  const missing: string[] = [];
  for (const queue of queues) {
    try {
      const response = await client.withDeadline(Date.now() + CHECK_DEADLINE_MS, () =>
        client.workflowService.describeTaskQueue({ namespace, taskQueue: { name: queue.name }, taskQueueType: queue.type }),
      );
      const fresh = (response.pollers ?? []).some((poller) => {
        const seconds = Number(poller.lastAccessTime?.seconds ?? 0);
        return Date.now() - seconds * 1000 < POLLER_FRESH_MS;
      });
      if (!fresh) missing.push(queue.name);
    } catch (error) {
      missing.push(`${queue.name} (${(error as Error).message.split('\n')[0]})`);
    }
  }
  return missing.length === 0 ? { ok: true, detail: 'polling switchyard and switchyard-agents' } : { ok: false, detail: `no worker polling ${missing.join(', ')}` };
}
