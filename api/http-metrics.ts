// Counts every HTTP answer of the API (and, for /hooks/*, the webhook delivery it was). A
// hook on the root instance, so it sees the routes of every plugin.
import type { FastifyInstance } from 'fastify';
import type { GatewayMetrics } from '../observability/metrics.js';

export function observeHttp(app: FastifyInstance, metrics: GatewayMetrics): void {
  app.addHook('onResponse', async (request, reply) => {
    // The route template, never the raw URL: unmatched paths would be unbounded labels.
    const route = request.routeOptions.url ?? 'unmatched';
    const status = String(reply.statusCode);
    metrics.httpRequests.inc({ method: request.method, route, status });
    metrics.httpRequestDuration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
    if (route === '/hooks/agent') metrics.webhookDeliveries.inc({ source: 'agent', status });
    else if (route === '/hooks/:source') metrics.webhookDeliveries.inc({ source: request.webhookSource?.name ?? 'unknown', status });
  });
}
