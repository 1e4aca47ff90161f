// Liveness and readiness: no auth, so that supervisors and load balancers can ask.
import type { FastifyPluginAsync } from 'fastify';
import type { Readiness } from '../readiness.js';

export const healthRoutes: FastifyPluginAsync<{ readiness: () => Promise<Readiness> }> = async (app, { readiness }) => {
  app.get('/healthz', async () => ({ ok: true }));
  app.get('/readyz', async (_request, reply) => {
    const result = await readiness();
    return reply.code(result.ready ? 200 : 503).send({ ready: result.ready, checks: result.checks });
  });
};
