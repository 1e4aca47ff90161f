// POST /hooks/:source — webhooks from GitHub, Stripe, Slack, Standard Webhooks senders and
// anything that signs with an HMAC. Per source (`webhooks.<source>`): verify the exact bytes
// received, drop what the filters ignore, map the payload to agent, session and prompt,
// dedupe on the sender's delivery id, and answer like /hooks/agent.
//
// Order of checks, cheapest and least revealing first: unknown source (404) and an
// address with too many failed authentications (429) before the body is read; the body
// limit (413) while reading; the signature (401); then parsing (400), filters (204),
// mapping (400), the rate limit (429) and Temporal (503 when it is away: nothing accepted).
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { resolveAgent, type Config } from '../../config/schema.js';
import { ApiError } from '../errors.js';
import { sessionWorkflowId } from '../../contracts/names.js';
import type { SendReceipt, SessionService } from '../session-service.js';
import { answerAccepted } from '../webhooks/answer.js';
import { AuthFailureThrottle, rateLimited } from '../webhooks/limits.js';
import { RecentDeliveries } from '../webhooks/recent.js';
import { compileSources, messageIdFor, parseBody, queryMap, type CompiledSource } from '../webhooks/source.js';
import type { TemplateContext } from '../webhooks/template.js';

export interface HookSourceOptions {
  config: Config;
  sessions: SessionService;
  throttle?: AuthFailureThrottle;
  /** The clock signatures' timestamps are checked against; for tests. */
  now?: () => number;
}

declare module 'fastify' {
  interface FastifyRequest {
    webhookSource?: CompiledSource;
  }
}

/** The header that says why a delivery was acknowledged with 204 and not run. */
export const IGNORED_HEADER = 'x-switchyard-ignored';

export const hookSourceRoutes: FastifyPluginAsync<HookSourceOptions> = async (app, options) => {
  const { config, sessions, throttle = new AuthFailureThrottle(), now = Date.now } = options;
  const sources = compileSources(config);
  const recent = new RecentDeliveries();
  const largest = Math.max(config.gateway.bodyLimit, ...[...sources.values()].map((source) => source.bodyLimit));

  // This plugin's own context: every content type arrives as the exact bytes sent.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { bodyLimit: largest }, async (request: FastifyRequest, payload: NodeJS.ReadableStream) =>
    readBody(payload, request.webhookSource?.bodyLimit ?? config.gateway.bodyLimit, request.headers['content-length']),
  );

  app.post<{ Params: { source: string } }>(
    '/hooks/:source',
    {
      bodyLimit: largest,
      onRequest: async (request) => {
        const name = request.params.source;
        const source = sources.get(name);
        if (!source || !source.enabled) throw new ApiError(404, 'not_found', `no webhook source "${name}" (configure webhooks.${name})`);
        request.webhookSource = source;
        if (source.verifyType !== 'none') throttle.check(request, now());
      },
    },
    async (request, reply) => {
      const source = request.webhookSource!;
      const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);

      const verdict = source.verify({ headers: request.headers, body: raw, now: now() });
      if (!verdict.ok) {
        throttle.recordFailure(request.ip, now());
        throw new ApiError(401, 'unauthorized', `webhook verification failed: ${verdict.reason}`);
      }
      if (source.verifyType !== 'none') throttle.recordSuccess(request.ip);

      const parsed = parseBody(raw, request.headers['content-type']);
      if (!parsed.ok) throw new ApiError(400, 'invalid_json', parsed.message);
      const context: TemplateContext = {
        body: parsed.body,
        headers: source.visibleHeaders(request.headers),
        query: queryMap(request.query),
        source: source.name,
      };

      // Slack checks a new Events API URL with a signed challenge it wants echoed.
      if (source.verifyType === 'slack' && isSlackChallenge(parsed.body)) {
        return reply.code(200).send({ challenge: parsed.body.challenge });
      }

      const filtered = source.filter(context);
      if (filtered.ignored) return reply.code(204).header(IGNORED_HEADER, filtered.reason).send();

      const mapping = source.map(context, (agentId) => resolveAgent(config, agentId) !== undefined);
      if (!mapping.ok) {
        const path = `webhooks.${source.name}.${mapping.field}`;
        throw new ApiError(400, mapping.code, `${path}: ${mapping.message}`, { issues: [{ path, message: mapping.message }] });
      }

      const taken = source.bucket?.take(now());
      if (taken && !taken.ok) throw rateLimited(source.name, taken.retryAfterMs);

      const agent = resolveAgent(config, mapping.agentId)!;
      const idempotencyKey = source.dedupeKey(context);
      const seen = idempotencyKey === undefined ? undefined : recent.get(mapping.sessionKey, idempotencyKey);
      const receipt: SendReceipt = seen
        ? { accepted: true, duplicate: true, sessionKey: mapping.sessionKey, workflowId: sessionWorkflowId(mapping.sessionKey), messageId: seen, idempotencyKey: idempotencyKey! }
        : await sessions.send({
            sessionKey: mapping.sessionKey,
            agentId: mapping.agentId,
            text: mapping.prompt,
            source: `hook:${source.name}`,
            busy: agent.busy,
            requestId: request.id,
            // One signalWithStart: the workflow runs a key once, and every copy of a delivery
            // gets the same message id, so no round trip through the worker is needed.
            ...(idempotencyKey ? { idempotencyKey, messageId: messageIdFor(mapping.sessionKey, idempotencyKey), signalOnly: true } : {}),
            ...(source.delivers ? { delivery: { source: source.name } } : {}),
          });
      if (idempotencyKey !== undefined && !seen) recent.add(mapping.sessionKey, idempotencyKey, receipt.messageId);
      return answerAccepted(reply, sessions, receipt, source.mode, source.timeoutMs);
    },
  );
};

function isSlackChallenge(body: unknown): body is { type: 'url_verification'; challenge: string } {
  if (body === null || typeof body !== 'object') return false;
  const record = body as Record<string, unknown>;
  return record.type === 'url_verification' && typeof record.challenge === 'string' && record.challenge.length <= 1024;
}

function tooLarge(limit: number): ApiError {
  return new ApiError(413, 'body_too_large', `body larger than ${limit} bytes`);
}

/** The exact bytes of the body, refusing (413) as soon as they pass `limit`. */
async function readBody(payload: NodeJS.ReadableStream, limit: number, contentLength: string | undefined): Promise<Buffer> {
  if (contentLength !== undefined && Number(contentLength) > limit) throw tooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of payload) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += buffer.length;
    if (size > limit) throw tooLarge(limit);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks, size);
}
