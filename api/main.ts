// The API process: `switchyard start` runs it as a child; it can also run on its own.
import { Client, Connection } from '@temporalio/client';
import { watchChannelConfig } from '../channels/config-watch.js';
import { loadConfigFromArgv } from '../cli/commands/config.js';
import { ConfigError } from '../config/errors.js';
import { temporalConnectionOptions } from '../config/temporal-connection.js';
import { secretValues } from '../config/redact.js';
import { createLogger } from '../observability/logger.js';
import { installTracing } from '../observability/tracing.js';
import { exitWhenOrphaned } from '../supervisor/orphan-guard.js';
import { assertSafeBind } from './auth.js';
import { buildApiServer } from './server.js';
import { closableRetries } from '../config/temporal-retries.js';

async function main(): Promise<void> {
  const loaded = loadConfigFromArgv('switchyard-api');
  const { config } = loaded;
  const internalToken = config.gateway.internalToken ?? process.env.SWITCHYARD_INTERNAL_TOKEN;
  const logger = createLogger({ name: 'api', level: config.log.level, secrets: [...secretValues(config), ...(internalToken ? [internalToken] : [])] });
  assertSafeBind(config.gateway.bind, config.gateway.auth.token);

  // Lazy: the API starts and answers /healthz and /readyz (503) while Temporal is away.
  const retries = closableRetries();
  const connection = Connection.lazy({ ...temporalConnectionOptions(config), interceptors: retries.interceptors });
  const tracing = await installTracing(config, 'api');
  const client = new Client({
    connection,
    namespace: config.temporal.namespace,
    ...(tracing ? { interceptors: { workflow: tracing.clientInterceptors } } : {}),
  });
  const { app, channels } = await buildApiServer({ config, client, logger, internalToken, cleanStaleChannels: process.env.SWITCHYARD_SUPERVISED === '1' });
  await app.listen({ host: config.gateway.bind, port: config.gateway.port });
  const channelConfig = watchChannelConfig(channels, logger, loaded);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    channelConfig.close();
    await app.close();
    await tracing?.shutdown();
    // The process exits next, and a retry timer with it: no need to outwait the backoff
    // (up to 5 s while Temporal is away) inside the supervisor's grace period.
    await retries.close(connection, { maxWaitMs: 500 });
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  exitWhenOrphaned(() => void stop('supervisor gone'));
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(78);
  }
  console.error(error instanceof Error ? error.message : error);
  process.exit(/refusing to bind/.test(String((error as Error)?.message)) ? 78 : 1);
});
