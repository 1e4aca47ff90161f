// POST /internal/hooks: where a running turn's Claude CLI posts its `http` hooks. The
// per-turn token (claude-hooks/hook-token.ts) names the session, turn and agent; each hook
// becomes a `turn.hook` live event, and a PreToolUse the agent's toolPolicy denies is
// answered with a deny decision, which the CLI obeys.
import type { FastifyPluginAsync } from 'fastify';
import { HookInput, denyAnswer, hookEventData } from '../../claude-hooks/hook-input.js';
import { verifyHookToken, type HookTokenClaims } from '../../claude-hooks/hook-token.js';
import { deniedBy, denialReason, parseToolRule } from '../../claude-hooks/tool-policy.js';
import { resolveAgent, type Config } from '../../config/schema.js';
import { bearerOf } from '../auth.js';
import { ApiError, invalidInput } from '../errors.js';
import type { EventHub } from '../event-hub.js';

/** Tool inputs and outputs can be large (a Write of a whole file); a refused body would let the call through. */
const HOOK_BODY_LIMIT = 16 * 1024 * 1024;

declare module 'fastify' {
  interface FastifyRequest {
    hookClaims?: HookTokenClaims;
  }
}

export const internalHookRoutes: FastifyPluginAsync<{ hub: EventHub; config: Config; internalToken: string | undefined; now?: () => number }> = async (
  app,
  { hub, config, internalToken, now = Date.now },
) => {
  app.post(
    '/internal/hooks',
    {
      logLevel: 'warn',
      bodyLimit: HOOK_BODY_LIMIT,
      // The token is checked from the headers alone, before a body is read.
      onRequest: async (request) => {
        if (!internalToken) throw new ApiError(401, 'unauthorized', 'no internal token is configured; Claude hooks are off');
        const token = bearerOf(request.headers.authorization);
        if (!token) throw unauthorized('missing hook token (Authorization: Bearer <token>)');
        const check = verifyHookToken(internalToken, token, now());
        if (!check.ok) throw unauthorized(check.reason === 'expired' ? 'the hook token has expired' : 'invalid hook token');
        request.hookClaims = check.claims;
      },
    },
    async (request, reply) => {
      const claims = request.hookClaims!;
      const parsed = HookInput.safeParse(request.body);
      if (!parsed.success) throw invalidInput(parsed.error);
      const input = parsed.data;
      const denial = input.hook_event_name === 'PreToolUse' && input.tool_name !== undefined ? decide(config, claims.agentId, input.tool_name, input.tool_input) : undefined;
      hub.publish([{ sessionKey: claims.sessionKey, turnId: claims.turnId, type: 'turn.hook', data: hookEventData(input, denial), ts: now() }]);
      if (denial) return reply.code(200).send(denyAnswer(denial.reason));
      return reply.code(204).send();
    },
  );
};

function decide(config: Config, agentId: string, toolName: string, toolInput: unknown): { decision: 'deny'; reason: string; rule: string } | undefined {
  const agent = resolveAgent(config, agentId);
  if (!agent) return undefined;
  // Rules were validated when the config loaded; parsing a handful per call is cheap.
  const rule = deniedBy(agent.toolPolicy.deny.map(parseToolRule), { name: toolName, input: toolInput });
  return rule ? { decision: 'deny', reason: denialReason(agentId, rule), rule: rule.source } : undefined;
}

function unauthorized(message: string): ApiError {
  return new ApiError(401, 'unauthorized', message, undefined, { 'www-authenticate': 'Bearer' });
}
