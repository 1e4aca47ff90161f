// The WebSocket JSON-RPC endpoint, `ws://host:port/rpc`, on fastify's own HTTP server:
// `ws` in noServer mode takes the upgrades fastify leaves alone. Auth is decided before the
// handshake (a refusal is a plain HTTP answer, before any frame); the connections are
// pinged; on shutdown (fastify's preClose) each gets a `connection.closing` notification
// and a 1001 close.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { WebSocketServer, type WebSocket } from 'ws';
import { parseDuration } from '../../config/duration.js';
import { CLOSE_CODES, CLOSE_GRACE_MS, FLOOD_COOLDOWN_MS, RpcConnection } from './connection.js';
import type { RpcServices, RpcStats } from './context.js';
import { MethodTable, type AnyRpcMethod } from './method.js';
import { coreMethods } from './methods/index.js';
import { authorizeUpgrade, RPC_SUBPROTOCOL } from './upgrade-auth.js';
import { AuthFailureThrottle, retryAfterSeconds } from '../webhooks/limits.js';

export const RPC_PATH = '/rpc';

export interface RpcServerOptions {
  services: Omit<RpcServices, 'stats' | 'version' | 'startedAt'>;
  logger: Logger;
  /** Methods beyond the core table (tests register the specification's examples this way). */
  extraMethods?: readonly AnyRpcMethod[];
  /** The hook routes' brake on repeated authentication failures, shared with the upgrade. */
  authThrottle?: AuthFailureThrottle;
}

export interface RpcServer {
  table: MethodTable;
  stats(): RpcStats & { closedSlow: number; refused: number };
  /** Open connections (for tests and the benchmark). */
  connections(): ReadonlySet<RpcConnection>;
}

export const GATEWAY_VERSION: string = (() => {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string }).version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
})();

export function attachRpcServer(app: FastifyInstance, options: RpcServerOptions): RpcServer {
  const { config } = options.services;
  const limits = config.gateway.rpc;
  const logger = options.logger;
  const table = new MethodTable([...coreMethods, ...(options.extraMethods ?? [])]);
  const connections = new Set<RpcConnection>();
  const counters = { closedSlow: 0, refused: 0 };
  const floodBrake = new AuthFailureThrottle({ maxFailures: 1, windowMs: FLOOD_COOLDOWN_MS });
  let nextId = 0;
  let shuttingDown = false;
  const idPrefix = randomBytes(3).toString('hex');

  const services: RpcServices = {
    ...options.services,
    startedAt: Date.now(),
    version: GATEWAY_VERSION,
    stats: () => stats(),
  };
  const stats = () => {
    let subscriptions = 0;
    for (const connection of connections) subscriptions += connection.subscriptions.size;
    return { connections: connections.size, subscriptions, ...counters };
  };

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: limits.maxFrameBytes,
    perMessageDeflate: false,
    clientTracking: false,
    handleProtocols: (protocols) => (protocols.has(RPC_SUBPROTOCOL) ? RPC_SUBPROTOCOL : false),
  });

  // Plain HTTP GET /rpc: say how to use it.
  app.get(RPC_PATH, async (_request, reply) =>
    reply.code(426).header('upgrade', 'websocket').send({ error: { code: 'upgrade_required', message: 'connect with a WebSocket (JSON-RPC 2.0); see docs/rpc.md' } }),
  );

  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => undefined);
    const pathname = (request.url ?? '/').split('?')[0];
    if (pathname !== RPC_PATH) {
      // Someone else's upgrade, if anyone else listens; otherwise nobody's.
      if (app.server.listenerCount('upgrade') === 1) refuse(socket, 404, 'not_found', `no WebSocket endpoint at ${pathname}; use ${RPC_PATH}`);
      return;
    }
    if (shuttingDown) return refuse(socket, 503, 'shutting_down', 'the gateway is shutting down');
    const remote = request.socket.remoteAddress ?? '';
    // A client just closed for ignoring the rate limit would reconnect and flood again at
    // once: its address waits before it may open another connection (a 429 costs far less
    // than a flood). Connections already open are not affected.
    const floodWaitMs = floodBrake.blockedFor(remote);
    if (floodWaitMs !== undefined) {
      counters.refused += 1;
      return refuse(socket, 429, 'rate_limit_ignored', 'a connection from this address ignored the rate limit and was closed; try again later', { 'retry-after': retryAfterSeconds(floodWaitMs) });
    }
    const throttle = config.gateway.auth.token ? options.authThrottle : undefined;
    const waitMs = throttle?.blockedFor(remote);
    if (waitMs !== undefined) {
      counters.refused += 1;
      return refuse(socket, 429, 'too_many_auth_failures', 'too many failed authentications from this address; try again later', { 'retry-after': retryAfterSeconds(waitMs) });
    }
    const channels = options.services.channels;
    const decision = authorizeUpgrade(request, {
      token: config.gateway.auth.token,
      bind: config.gateway.bind,
      ...(channels ? { scopedToken: (given: string) => channels.principalOf(given) } : {}),
    });
    if (decision.ok) throttle?.recordSuccess(remote);
    else if (decision.status === 401) throttle?.recordFailure(remote);
    if (!decision.ok) {
      counters.refused += 1;
      logger.info({ status: decision.status, code: decision.code, remote: request.socket.remoteAddress }, 'rpc: upgrade refused');
      return refuse(socket, decision.status, decision.code, decision.message, decision.headers);
    }
    wss.handleUpgrade(request, socket, head, (ws: WebSocket) => {
      if (shuttingDown) return ws.close(CLOSE_CODES.goingAway, 'server shutting down');
      const connection = new RpcConnection(
        `${idPrefix}-${(nextId++).toString(36)}`,
        ws,
        table,
        services,
        { sendBufferBytes: limits.sendBufferBytes, maxBatch: limits.maxBatch, rateLimit: limits.rateLimit },
        logger,
        {
          closed: (closed) => connections.delete(closed),
          slow: () => void (counters.closedSlow += 1),
          flooded: () => floodBrake.recordFailure(remote),
        },
        decision.principal,
      );
      connections.add(connection);
      logger.debug({ rpcConnection: connection.id, remote: request.socket.remoteAddress, scope: decision.principal.scope }, 'rpc: connection opened');
    });
  };
  app.server.on('upgrade', onUpgrade);

  const pingEvery = parseDuration(limits.pingInterval);
  const pinger = setInterval(() => {
    for (const connection of connections) connection.heartbeat();
  }, pingEvery);
  pinger.unref();

  app.addHook('preClose', async () => {
    shuttingDown = true;
    clearInterval(pinger);
    if (connections.size > 0) {
      const allClosed = new Promise<void>((resolve) => {
        const check = setInterval(() => {
          if (connections.size === 0) {
            clearInterval(check);
            resolve();
          }
        }, 10);
        setTimeout(() => {
          clearInterval(check);
          resolve();
        }, CLOSE_GRACE_MS + 200).unref();
      });
      for (const connection of connections) connection.close(CLOSE_CODES.goingAway, 'server shutting down', 'the gateway is stopping; reconnect later (subscriptions: with afterSeq)');
      await allClosed;
      for (const connection of connections) connection.terminate();
    }
    app.server.off('upgrade', onUpgrade);
    wss.close();
  });

  return { table, stats, connections: () => connections };
}

function refuse(socket: Duplex, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
  const body = JSON.stringify({ error: { code, message } });
  const lines = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
    'connection: close',
    'content-type: application/json; charset=utf-8',
    `content-length: ${Buffer.byteLength(body)}`,
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`, () => socket.destroy());
}
