// The API process's HTTP and WebSocket server: fastify, one plugin per concern.
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { registerErrorHandling } from './errors.js';
import { EventHub } from './event-hub.js';
import { checkReadiness } from './readiness.js';
import { healthRoutes } from './routes/health.js';
import { hookAgentRoutes } from './routes/hooks-agent.js';
import { internalEventRoutes } from './routes/internal-events.js';
import { SessionService } from './session-service.js';

export interface ApiServerOptions {
  config: Config;
  client: Client;
  logger: Logger;
  /** Token the workers use to publish events; undefined turns publishing off. */
  internalToken: string | undefined;
  hub?: EventHub;
}

export interface ApiServer {
  app: FastifyInstance;
  hub: EventHub;
  sessions: SessionService;
}

export async function buildApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const { config, client } = options;
  const hub = options.hub ?? new EventHub();
  const sessions = new SessionService(client, hub, { maxTurnsPerRun: config.worker.maxTurnsPerRun });
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    bodyLimit: config.gateway.bodyLimit,
    requestIdHeader: 'x-request-id',
    genReqId: () => crypto.randomUUID(),
  });
  registerErrorHandling(app);

  await app.register(healthRoutes, {
    readiness: () => checkReadiness(client, config.temporal.namespace, () => ({ ok: true, detail: 'no required channels' })),
  });
  await app.register(internalEventRoutes, { hub, internalToken: options.internalToken });
  await app.register(hookAgentRoutes, { config, sessions });
  return { app, hub, sessions };
}
