// Helpers for cron tests: a CronService on a test gateway, unique job names, and cleanup
// of everything a test file created, so no schedule fires into the next test file.
import { ScheduleNotFoundError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { CronJobSchema } from '../../config/cron-schema.js';
import { agentIds } from '../../config/schema.js';
import { CronService } from '../../cron/service.js';
import type { CronJob } from '../../cron/types.js';
import type { TestGateway } from './gateway.js';

export function cronService(gateway: Pick<TestGateway, 'client' | 'config'>): CronService {
  return new CronService(gateway.client, { validate: (job) => CronJobSchema.parse(job) as CronJob, knownAgents: () => agentIds(gateway.config) });
}

/** A job name no other test file or run uses. */
export function uniqueJobName(label: string): string {
  return `${label}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
}

/** A parsed job, defaults applied (what config would hold). */
export function cronJob(input: Record<string, unknown>): CronJob {
  return CronJobSchema.parse(input) as CronJob;
}

/** Deletes the schedules `cron:<name>` and terminates the runs and one-shots of these jobs; ignores what is gone. */
export async function removeCronJobs(client: Client, names: Iterable<string>): Promise<void> {
  for (const name of names) {
    const id = `cron:${name}`;
    await client.schedule
      .getHandle(id)
      .delete()
      .catch((error: unknown) => {
        if (!(error instanceof ScheduleNotFoundError)) throw error;
      });
    const query = `WorkflowType = 'cronRunWorkflow' AND ExecutionStatus = 'Running' AND (TemporalScheduledById = '${id}' OR WorkflowId = '${id}')`;
    for await (const run of client.workflow.list({ query })) {
      await client.workflow
        .getHandle(run.workflowId, run.runId)
        .terminate('test cleanup')
        .catch((error: unknown) => {
          if (!(error instanceof WorkflowNotFoundError)) throw error;
        });
    }
  }
}
