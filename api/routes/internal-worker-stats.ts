// Where workers report how many agent turns they are executing (observability/worker-stats.ts).
// Only holders of the internal token may report.
import type { FastifyPluginAsync } from 'fastify';
import { requireToken } from '../auth.js';
import { ApiError, invalidInput } from '../errors.js';
import type { ConcurrencyView } from '../../observability/concurrency-view.js';
import { WorkerStatsReport } from '../../observability/worker-stats.js';

export const internalWorkerStatsRoutes: FastifyPluginAsync<{ concurrency: ConcurrencyView; internalToken: string | undefined }> = async (
  app,
  { concurrency, internalToken },
) => {
  const authorize = requireToken(internalToken);
  app.post('/internal/worker-stats', { logLevel: 'warn' }, async (request, reply) => {
    if (!internalToken) throw new ApiError(401, 'unauthorized', 'no internal token is configured; worker reports are off');
    await authorize(request);
    const parsed = WorkerStatsReport.safeParse(request.body);
    if (!parsed.success) throw invalidInput(parsed.error);
    concurrency.report(parsed.data);
    return reply.code(204).send();
  });
};
