// The worker process: `switchyard start` runs it as a child; at scale, run several.
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { loadConfigFromArgv } from '../cli/commands/config.js';
import { ConfigError } from '../config/errors.js';
import { CronJobSchema } from '../config/cron-schema.js';
import { temporalAddress } from '../config/paths.js';
import { temporalConnectError, temporalConnectionOptions } from '../config/temporal-connection.js';
import { secretValues } from '../config/redact.js';
import { reconcileUntilDone } from '../cron/reconcile.js';
import { CronService } from '../cron/service.js';
import { createLogger } from '../observability/logger.js';
import { installTracing } from '../observability/tracing.js';
import { AgentSlotTracker, WorkerStatsReporter, workerStatsUrl } from '../observability/worker-stats.js';
import { exitWhenOrphaned } from '../supervisor/orphan-guard.js';
import { createWorkers, runWorkers } from './create-workers.js';
import { eventsUrl, hooksUrl } from './events-url.js';
import { HttpEventPublisher } from './http-event-publisher.js';
import { installWorkerRuntime } from './runtime.js';
import { closableRetries } from '../config/temporal-retries.js';

async function main(): Promise<void> {
  const { config } = loadConfigFromArgv('switchyard-worker');
  const internalToken = config.gateway.internalToken ?? process.env.SWITCHYARD_INTERNAL_TOKEN;
  const logger = createLogger({ name: 'worker', level: config.log.level, secrets: [...secretValues(config), ...(internalToken ? [internalToken] : [])] });
  installWorkerRuntime(config, logger);
  const tracing = await installTracing(config, 'worker');
  const agentSlots = new AgentSlotTracker();

  const publisher = new HttpEventPublisher(eventsUrl(config), internalToken, (message) => logger.warn(message));
  const connectionOptions = temporalConnectionOptions(config);
  const connection = await NativeConnection.connect(connectionOptions).catch((error: unknown) => {
    throw temporalConnectError(error, connectionOptions);
  });
  const retries = closableRetries();
  const clientConnection = await Connection.connect({ ...connectionOptions, interceptors: retries.interceptors });
  const client = new Client({
    connection: clientConnection,
    namespace: config.temporal.namespace,
    ...(tracing ? { interceptors: { workflow: tracing.clientInterceptors } } : {}),
  });
  const workers = await createWorkers({
    connection,
    namespace: config.temporal.namespace,
    config: () => config,
    publisher,
    baseDir: process.cwd(),
    env: process.env,
    client,
    ...(internalToken ? { claudeHooks: { url: hooksUrl(config), internalToken } } : {}),
    agentSlots,
    ...(tracing ? { tracing } : {}),
  });
  // Reports agent slots to the API's /metrics once the workers exist (observability/worker-stats.ts).
  const statsReporter = new WorkerStatsReporter(workerStatsUrl(eventsUrl(config)), internalToken, agentSlots, config.worker.maxConcurrentTurns, (message) =>
    logger.warn(message),
  );
  logger.info({ address: temporalAddress(config), namespace: config.temporal.namespace, maxConcurrentTurns: config.worker.maxConcurrentTurns }, 'worker polling');
  // Config cron jobs → Temporal Schedules, at every start, here in the worker: the process
  // that runs the jobs, with the config that runs them (docs/cron.md). Idempotent and safe
  // when several workers start at once; retried until a pass completes.
  const cron = new CronService(client, { validate: (job) => CronJobSchema.parse(job) });
  const stopReconciling = new AbortController();
  void reconcileUntilDone(cron, config.cron, { signal: stopReconciling.signal, log: (level, message) => logger[level](message) }).then((report) => {
    if (report) logger.info({ ...report, skipped: report.skipped.map((s) => `${s.name}: ${s.reason}`) }, 'cron jobs reconciled');
  });
  exitWhenOrphaned(() => {
    logger.warn('supervisor gone: draining and exiting');
    for (const worker of workers) worker.shutdown();
  });
  // The SDK's runtime stops the workers on SIGINT/SIGTERM; run() returns once they drained.
  await runWorkers(workers);
  stopReconciling.abort();
  await publisher.close();
  await statsReporter.close();
  await tracing?.shutdown();
  await retries.close(clientConnection);
  await connection.close();
  logger.info('worker stopped');
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(error instanceof ConfigError ? 78 : 1);
});
