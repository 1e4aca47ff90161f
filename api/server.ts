// The API process's HTTP and WebSocket server: fastify, one plugin per concern.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import { agentPolicy } from '../config/agent-policy.js';
import { ChannelManager } from '../channels/manager.js';
import { gatewayHost, switchyardHome } from '../config/paths.js';
import type { Config } from '../config/schema.js';
import { registerErrorHandling } from './errors.js';
import { EventHub } from './event-hub.js';
import { checkReadiness } from './readiness.js';
import { healthRoutes } from './routes/health.js';
import { hookAgentRoutes } from './routes/hooks-agent.js';
import { hookSourceRoutes } from './routes/hooks-source.js';
import { internalEventRoutes } from './routes/internal-events.js';
import { internalHookRoutes } from './routes/internal-hooks.js';
import { internalWorkerStatsRoutes } from './routes/internal-worker-stats.js';
import { metricsRoutes } from './routes/metrics.js';
import { observeHttp } from './http-metrics.js';
import { ConcurrencyView } from '../observability/concurrency-view.js';
import { forgetChannel, GatewayMetrics, recordChannelRestart, recordChannelState } from '../observability/metrics.js';
import { TurnMetrics } from '../observability/turn-metrics.js';
import type { AnyRpcMethod } from './rpc/method.js';
import { attachRpcServer, type RpcServer } from './rpc/rpc-server.js';
import { SessionService } from './session-service.js';
import { AuthFailureThrottle } from './webhooks/limits.js';
import { DEFAULT_HTTP_LIMITS, type HttpLimits } from './http-limits.js';

export interface ApiServerOptions {
  config: Config;
  client: Client;
  logger: Logger;
  /** Token the workers use to publish events; undefined turns publishing off. */
  internalToken: string | undefined;
  hub?: EventHub;
  /** JSON-RPC methods beyond the core table (tests only). */
  extraRpcMethods?: readonly AnyRpcMethod[];
  /** $SWITCHYARD_HOME, for the channel adapters' logs and state (default from the environment). */
  home?: string;
  /** Stop channel adapters a previous API process of this home left behind (under `switchyard start`). */
  cleanStaleChannels?: boolean;
  /** How long a client may take to send a request (tests shorten them). */
  httpLimits?: HttpLimits;
  /** This process's metrics; a fresh registry by default. */
  metrics?: GatewayMetrics;
}

export interface ApiServer {
  app: FastifyInstance;
  hub: EventHub;
  sessions: SessionService;
  rpc: RpcServer;
  channels: ChannelManager;
  metrics: GatewayMetrics;
}

export async function buildApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const { config, client } = options;
  const hub = options.hub ?? new EventHub();
  const metrics = options.metrics ?? new GatewayMetrics();
  const sessions = new SessionService(client, hub, {
    maxTurnsPerRun: config.worker.maxTurnsPerRun,
    policyOf: (agentId) => agentPolicy(config, agentId),
    logger: options.logger,
  });
  const limits = options.httpLimits ?? DEFAULT_HTTP_LIMITS;
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    bodyLimit: config.gateway.bodyLimit,
    requestIdHeader: 'x-request-id',
    // The same key as the worker's log lines of the turn the request starts.
    logController: new LogController({ requestIdLogLabel: 'requestId' }),
    genReqId: () => crypto.randomUUID(),
    requestTimeout: limits.requestTimeoutMs,
    http: { connectionsCheckingInterval: limits.checkIntervalMs },
  });
  app.server.headersTimeout = limits.headersTimeoutMs;
  registerErrorHandling(app);
  observeHttp(app, metrics);
  const turnMetrics = new TurnMetrics(metrics);
  hub.subscribe(undefined, (event) => turnMetrics.observe(event));
  const concurrency = new ConcurrencyView(metrics, turnMetrics);

  const channels = new ChannelManager({
    channels: config.channels,
    home: options.home ?? switchyardHome(),
    baseDir: process.cwd(),
    logger: options.logger,
    ...(options.cleanStaleChannels ? { cleanStale: true } : {}),
    observer: {
      restarted: (channel) => recordChannelRestart(metrics, channel),
      state: (channel, state) => recordChannelState(metrics, channel, state),
      removed: (channel) => forgetChannel(metrics, channel),
    },
  });
  // Adapters start once the API answers (they connect to it) and stop before it closes.
  app.addHook('onListen', async () => {
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.gateway.port;
    await channels.start(`ws://${gatewayHost(config)}:${port}/rpc`);
  });
  app.addHook('preClose', () => channels.stopAll());
  const readiness = () => checkReadiness(client, config.temporal.namespace, () => channels.readiness());
  await app.register(healthRoutes, { readiness });
  await app.register(internalEventRoutes, { hub, internalToken: options.internalToken });
  await app.register(internalHookRoutes, { hub, config, internalToken: options.internalToken });
  await app.register(internalWorkerStatsRoutes, { concurrency, internalToken: options.internalToken });
  await app.register(metricsRoutes, { config, metrics });
  // One brake on repeated authentication failures, shared by the hook routes.
  const throttle = new AuthFailureThrottle();
  await app.register(hookAgentRoutes, { config, sessions, throttle });
  await app.register(hookSourceRoutes, { config, sessions, throttle });
  const rpc = attachRpcServer(app, {
    services: { config, client, sessions, hub, readiness, channels, metrics },
    logger: options.logger,
    authThrottle: throttle,
    ...(options.extraRpcMethods ? { extraMethods: options.extraRpcMethods } : {}),
  });
  metrics.observeRpcServer(() => rpc.stats());
  return { app, hub, sessions, rpc, channels, metrics };
}
