// POST /hooks/agent: the plain way in. A bearer-authenticated JSON body names a message
// and, optionally, the agent, session, idempotency key, whether to wait for the answer and
// where to POST the result.
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { parseSessionKey, sessionKeyOf } from '../../contracts/names.js';
import { resolveAgent, type Config } from '../../config/schema.js';
import { ApiError, invalidInput } from '../errors.js';
import type { SessionService } from '../session-service.js';
import { answerAccepted } from '../webhooks/answer.js';
import { AuthFailureThrottle, requireTokenThrottled } from '../webhooks/limits.js';

export const HookAgentBody = z.object({
  message: z.string().min(1, 'must not be empty'),
  agent: z.string().min(1).optional(),
  sessionKey: z.string().min(1).optional(),
  idempotencyKey: z.string().min(1).max(512).optional(),
  mode: z.enum(['async', 'sync']).default('async'),
  timeoutMs: z.number().int().min(1).max(3_600_000).default(120_000),
  /** POST the turn's result here, signed with gateway.deliverSecret (Standard Webhooks). */
  deliver: z
    .strictObject({
      url: z
        .string()
        .max(2048)
        .regex(/^https?:\/\/\S+$/, 'expected an http:// or https:// URL')
        .refine((url) => URL.canParse(url), 'expected a URL'),
    })
    .optional(),
});

export const hookAgentRoutes: FastifyPluginAsync<{ config: Config; sessions: SessionService; throttle?: AuthFailureThrottle }> = async (
  app,
  { config, sessions, throttle = new AuthFailureThrottle() },
) => {
  app.post('/hooks/agent', { preHandler: requireTokenThrottled(config.gateway.auth.token, throttle) }, async (request, reply) => {
    const parsed = HookAgentBody.safeParse(request.body);
    if (!parsed.success) throw invalidInput(parsed.error);
    const body = parsed.data;
    if (body.deliver && !config.gateway.deliverSecret) {
      throw new ApiError(400, 'invalid_input', 'body.deliver: result delivery needs gateway.deliverSecret in the config', {
        issues: [{ path: 'body.deliver', message: 'gateway.deliverSecret is not configured' }],
      });
    }
    const { agentId, sessionKey } = resolveTarget(config, body.agent, body.sessionKey);
    const agent = resolveAgent(config, agentId)!;
    const idempotencyKey = body.idempotencyKey ?? headerKey(request.headers['idempotency-key']);

    const receipt = await sessions.send({
      sessionKey,
      agentId,
      text: body.message,
      source: 'hook:agent',
      busy: agent.busy,
      requestId: request.id,
      ...(idempotencyKey ? { idempotencyKey } : {}),
      ...(body.deliver ? { delivery: { url: body.deliver.url } } : {}),
    });
    return answerAccepted(reply, sessions, receipt, body.mode, body.timeoutMs);
  });
};

/** The session key wins when given; the agent must exist and agree with it. */
export function resolveTarget(config: Config, agent: string | undefined, sessionKey: string | undefined): { agentId: string; sessionKey: string } {
  if (sessionKey !== undefined) {
    const parsed = parseSessionKey(sessionKey);
    if (!parsed) throw new ApiError(400, 'invalid_input', 'body.sessionKey: expected agent:<agentId>:<scope>', { issues: [{ path: 'body.sessionKey', message: 'expected agent:<agentId>:<scope>' }] });
    if (agent !== undefined && agent !== parsed.agentId) {
      throw new ApiError(400, 'invalid_input', `body.agent: "${agent}" does not match the session key's agent "${parsed.agentId}"`, { issues: [{ path: 'body.agent', message: 'does not match sessionKey' }] });
    }
    assertAgent(config, parsed.agentId, sessionKey === undefined ? 'body.agent' : 'body.sessionKey');
    return { agentId: parsed.agentId, sessionKey };
  }
  const agentId = agent ?? 'main';
  assertAgent(config, agentId, 'body.agent');
  return { agentId, sessionKey: sessionKeyOf(agentId) };
}

function assertAgent(config: Config, agentId: string, path: string): void {
  if (!resolveAgent(config, agentId)) {
    throw new ApiError(400, 'unknown_agent', `${path}: no agent "${agentId}" is configured`, { issues: [{ path, message: `unknown agent "${agentId}"` }] });
  }
}

function headerKey(value: string | string[] | undefined): string | undefined {
  const key = Array.isArray(value) ? value[0] : value;
  return key && key.length <= 512 ? key : undefined;
}
