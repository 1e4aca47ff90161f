// Where workers publish session events (the default, loopback event bus). Only holders of
// the internal token may publish.
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { DURABLE_EVENT_TYPES, LIVE_EVENT_TYPES, type SessionEvent } from '../../contracts/events.js';
import { requireToken } from '../auth.js';
import { ApiError, invalidInput } from '../errors.js';
import type { EventHub } from '../event-hub.js';

const EventBatch = z.object({
  events: z.array(
    z.object({
      sessionKey: z.string().min(1),
      seq: z.number().int().positive().optional(),
      turnId: z.string(),
      type: z.enum([...DURABLE_EVENT_TYPES, ...LIVE_EVENT_TYPES]),
      data: z.record(z.string(), z.unknown()),
      ts: z.number(),
    }),
  ),
});

export const internalEventRoutes: FastifyPluginAsync<{ hub: EventHub; internalToken: string | undefined }> = async (app, { hub, internalToken }) => {
  const authorize = requireToken(internalToken);
  app.post('/internal/events', { logLevel: 'warn' }, async (request, reply) => {
    if (!internalToken) throw new ApiError(401, 'unauthorized', 'no internal token is configured; event publishing is off');
    await authorize(request);
    const parsed = EventBatch.safeParse(request.body);
    if (!parsed.success) throw invalidInput(parsed.error);
    hub.publish(parsed.data.events as SessionEvent[]);
    return reply.code(204).send();
  });
};
