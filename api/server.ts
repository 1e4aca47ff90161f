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
import { hookSourceRoutes } from './routes/hooks-source.js';
import { internalEventRoutes } from './routes/internal-events.js';
import type { AnyRpcMethod } from './rpc/method.js';
import { attachRpcServer, type RpcServer } from './rpc/rpc-server.js';
import { SessionService } from './session-service.js';
import { AuthFailureThrottle } from './webhooks/limits.js';
import { HEADERS_TIMEOUT_MS, REQUEST_TIMEOUT_MS } from './http-limits.js';

export interface ApiServerOptions {
  config: Config;
  client: Client;
  logger: Logger;
  /** Token the workers use to publish events; undefined turns publishing off. */
  internalToken: string | undefined;
  hub?: EventHub;
  /** JSON-RPC methods beyond the core table (tests only). */
  extraRpcMethods?: readonly AnyRpcMethod[];
}

export interface ApiServer {
  app: FastifyInstance;
  hub: EventHub;
  sessions: SessionService;
  rpc: RpcServer;
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
    requestTimeout: REQUEST_TIMEOUT_MS,
  });
  app.server.headersTimeout = HEADERS_TIMEOUT_MS;
  registerErrorHandling(app);

  const readiness = () => checkReadiness(client, config.temporal.namespace, () => ({ ok: true, detail: 'no required channels' }));
  await app.register(healthRoutes, { readiness });
  await app.register(internalEventRoutes, { hub, internalToken: options.internalToken });
  // One brake on repeated authentication failures, shared by the hook routes.
  const throttle = new AuthFailureThrottle();
  await app.register(hookAgentRoutes, { config, sessions, throttle });
  await app.register(hookSourceRoutes, { config, sessions, throttle });
  const rpc = attachRpcServer(app, {
    services: { config, client, sessions, hub, readiness },
    logger: options.logger,
    authThrottle: throttle,
    ...(options.extraRpcMethods ? { extraMethods: options.extraRpcMethods } : {}),
  });
  return { app, hub, sessions, rpc };
}
