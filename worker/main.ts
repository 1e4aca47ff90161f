// The worker process: `switchyard start` runs it as a child; at scale, run several.
import { NativeConnection, Runtime, DefaultLogger } from '@temporalio/worker';
import { loadConfigFromArgv } from '../cli/commands/config.js';
import { ConfigError } from '../config/errors.js';
import { temporalAddress } from '../config/paths.js';
import { secretValues } from '../config/redact.js';
import { createLogger } from '../observability/logger.js';
import { exitWhenOrphaned } from '../supervisor/orphan-guard.js';
import { createWorkers, runWorkers } from './create-workers.js';
import { eventsUrl } from './events-url.js';
import { HttpEventPublisher } from './http-event-publisher.js';

async function main(): Promise<void> {
  const { config } = loadConfigFromArgv('switchyard-worker');
  const internalToken = config.gateway.internalToken ?? process.env.SWITCHYARD_INTERNAL_TOKEN;
  const logger = createLogger({ name: 'worker', level: config.log.level, secrets: [...secretValues(config), ...(internalToken ? [internalToken] : [])] });
  Runtime.install({ logger: new DefaultLogger(config.log.level === 'debug' || config.log.level === 'trace' ? 'DEBUG' : 'WARN') });

  const publisher = new HttpEventPublisher(eventsUrl(config), internalToken, (message) => logger.warn(message));
  const connection = await NativeConnection.connect({ address: temporalAddress(config) });
  const workers = await createWorkers({
    connection,
    namespace: config.temporal.namespace,
    config: () => config,
    publisher,
    baseDir: process.cwd(),
    env: process.env,
  });
  logger.info({ address: temporalAddress(config), namespace: config.temporal.namespace, maxConcurrentTurns: config.worker.maxConcurrentTurns }, 'worker polling');
  exitWhenOrphaned(() => {
    logger.warn('supervisor gone: draining and exiting');
    for (const worker of workers) worker.shutdown();
  });
  // The SDK's runtime stops the workers on SIGINT/SIGTERM; run() returns once they drained.
  await runWorkers(workers);
  await publisher.close();
  await connection.close();
  logger.info('worker stopped');
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(error instanceof ConfigError ? 78 : 1);
});
