// GET /metrics: Prometheus text. Who may scrape (docs/observability.md): with
// observability.metrics.token set, holders of it (or of the gateway token); else, on a
// loopback bind, anyone who can reach the port (DESIGN.md: "token, unless bound to
// loopback"); else holders of the gateway token.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { isLoopback, bearerOf, tokensEqual } from '../auth.js';
import { ApiError } from '../errors.js';
import type { Config } from '../../config/schema.js';
import type { GatewayMetrics } from '../../observability/metrics.js';

export const metricsRoutes: FastifyPluginAsync<{ config: Config; metrics: GatewayMetrics }> = async (app, { config, metrics }) => {
  const tokens = metricsTokens(config);
  const authorize = async (request: FastifyRequest) => {
    if (tokens.length === 0) return;
    const given = bearerOf(request.headers.authorization);
    // Every token is compared, so the answer's timing does not say which one was close.
    const matches = given !== undefined && tokens.map((token) => tokensEqual(given, token)).includes(true);
    if (!matches) {
      throw new ApiError(401, 'unauthorized', given ? 'invalid bearer token' : 'missing bearer token (Authorization: Bearer <token>)', undefined, {
        'www-authenticate': 'Bearer',
      });
    }
  };
  app.get('/metrics', { preHandler: authorize, logLevel: 'warn' }, async (_request, reply) =>
    reply.header('content-type', metrics.contentType).send(await metrics.text()),
  );
};

/** The tokens a scrape may carry; none means the endpoint is open. */
export function metricsTokens(config: Config): string[] {
  const own = config.observability.metrics.token;
  const gateway = config.gateway.auth.token;
  if (own) return [own, ...(gateway ? [gateway] : [])];
  if (isLoopback(config.gateway.bind)) return [];
  return gateway ? [gateway] : [];
}
