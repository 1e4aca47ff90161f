// sessions.*: send messages, read state and events, cancel, reset, and subscribe to events.
import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import { z } from 'zod';
import { channelSessionKey, parseSessionKey } from '../../../contracts/names.js';
import { agentIds, resolveAgent } from '../../../config/schema.js';
import { ApiError } from '../../errors.js';
import { resolveTarget } from '../../routes/hooks-agent.js';
import { acceptedIds } from '../../session-service.js';
import type { RpcServices } from '../context.js';
import { invalidParams, temporalUnavailableError, TEMPORAL_RETRY_AFTER_MS } from '../errors.js';
import { defineMethod } from '../method.js';
import { APP_ERRORS, RpcError } from '../protocol.js';
import { Accepted, Identifier, Peer, Seq, SessionEventSchema, SessionKey, SessionStateSchema, SessionStatus } from '../schemas.js';
import { assertSessionAccess, forbidden } from '../scopes.js';
import { ALL_SESSIONS, SessionSubscription } from '../subscription.js';

/** How long a query may take before the session counts as not answering (no worker). */
export const QUERY_TIMEOUT_MS = 5000;
const LIST_MAX = 200;

const UNAVAILABLE = 14;
const DEADLINE_EXCEEDED = 4;

function grpcCode(error: unknown): number | undefined {
  for (let current: unknown = error, depth = 0; current && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'number') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Runs a call on one session's workflow, with the errors a client can act on. */
async function onSession<T>(services: RpcServices, sessionKey: string, call: () => Promise<T>, query = false): Promise<T> {
  try {
    return query ? await services.client.withDeadline(Date.now() + QUERY_TIMEOUT_MS, call) : await call();
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) throw RpcError.app('sessionNotFound', { sessionKey });
    const code = grpcCode(error);
    if (query && code === DEADLINE_EXCEEDED && (await temporalReachable(services))) {
      throw RpcError.app('sessionNotAnswering', {
        sessionKey,
        retryAfterMs: TEMPORAL_RETRY_AFTER_MS,
        hint: `the session did not answer within ${QUERY_TIMEOUT_MS} ms: is a worker running?`,
      });
    }
    if (code === UNAVAILABLE || code === DEADLINE_EXCEEDED) throw temporalUnavailableError();
    throw error;
  }
}

/** Tells "Temporal is away" from "the workflow's worker is away" after a query timed out. */
async function temporalReachable(services: RpcServices): Promise<boolean> {
  try {
    await services.client.withDeadline(Date.now() + 1000, () => services.client.workflowService.getSystemInfo({}));
    return true;
  } catch {
    return false;
  }
}

const SessionKeyParams = z.strictObject({ sessionKey: SessionKey });

const SESSION_ERRORS = [APP_ERRORS.sessionNotFound.code, APP_ERRORS.temporalUnavailable.code];
const QUERY_ERRORS = [...SESSION_ERRORS, APP_ERRORS.sessionNotAnswering.code];

export const sessionMethods = [
  defineMethod({
    name: 'sessions.send',
    description:
      'Sends a message to a session (started if needed) and answers once Temporal holds it, like POST /hooks/agent in async mode. The session key wins over `agent`; with neither, `agent:main:main`. A repeated `idempotencyKey` is acknowledged with `duplicate: true` and never run twice. Follow the turn with `sessions.subscribe`.',
    params: z.strictObject({
      message: z.string().min(1, 'must not be empty').describe('The text for the agent.'),
      agent: Identifier.optional().describe('An agent id from the config; default main.'),
      sessionKey: SessionKey.optional(),
      idempotencyKey: z.string().min(1).max(512).optional().describe('Deduplicates retries: a recent key is acknowledged, not run again.'),
      channel: Identifier.optional().describe(
        'Recorded on a new session as its SwitchyardChannel search attribute. With `peer` and no `sessionKey`, picks the session agent:<agent>:<channel>:<peer>. A channel adapter\'s token implies its own channel.',
      ),
      peer: Peer.optional().describe('Who on the channel the message is from (a user, a chat, a thread): with `channel`, picks the session agent:<agent>:<channel>:<peer>.'),
    }),
    result: z.object({
      accepted: z.literal(true),
      duplicate: z.boolean(),
      sessionKey: z.string(),
      workflowId: z.string(),
      messageId: z.string().describe('The turn that answers it has this id, or (when collected) lists it in data.messageIds.'),
    }),
    errors: [APP_ERRORS.unknownAgent.code, APP_ERRORS.temporalUnavailable.code, APP_ERRORS.forbidden.code],
    example: { message: 'Summarise the open pull requests', sessionKey: 'agent:main:main', idempotencyKey: 'req-42' },
    scopes: ['operator', 'adapter'],
    handler: async (params, { services, peer, requestId }) => {
      const { principal } = peer;
      if (principal.scope === 'adapter' && params.channel !== undefined && params.channel !== principal.channel) {
        throw forbidden('sessions.send', principal, `an adapter sends on its own channel (${principal.channel}) only`);
      }
      const channel = principal.scope === 'adapter' ? principal.channel : params.channel;
      if (params.peer !== undefined && channel === undefined) throw invalidParams([{ path: ['peer'], message: 'needs channel' }]);
      const sessionKey = params.sessionKey ?? (channel !== undefined && params.peer !== undefined ? channelSessionKey(params.agent ?? 'main', channel, params.peer) : undefined);
      let target: { agentId: string; sessionKey: string };
      try {
        target = resolveTarget(services.config, params.agent, sessionKey);
      } catch (error) {
        if (error instanceof ApiError && error.code === 'unknown_agent') {
          const agent = params.sessionKey !== undefined ? parseSessionKey(params.sessionKey)?.agentId : params.agent;
          throw RpcError.app('unknownAgent', {
            agent,
            path: [params.sessionKey !== undefined ? 'sessionKey' : 'agent'],
            knownAgents: agentIds(services.config),
          });
        }
        throw error;
      }
      assertSessionAccess(principal, 'sessions.send', target.sessionKey);
      const agent = resolveAgent(services.config, target.agentId)!;
      const receipt = await services.sessions.send({
        sessionKey: target.sessionKey,
        agentId: target.agentId,
        text: params.message,
        source: 'rpc',
        busy: agent.busy,
        requestId: `rpc:${peer.id}:${String(requestId ?? 'notification').slice(0, 100)}`,
        ...(params.idempotencyKey ? { idempotencyKey: params.idempotencyKey } : {}),
        ...(channel ? { channel } : {}),
      });
      return acceptedIds(receipt);
    },
  }),
  defineMethod({
    name: 'sessions.list',
    description:
      'Sessions from Temporal visibility, filtered by the search attributes SwitchyardAgent, SwitchyardChannel and SwitchyardState; running ones unless `includeClosed`. Eventually consistent: a session started a moment ago may be missing. `more` says the limit cut the list.',
    params: z.strictObject({
      agent: Identifier.optional(),
      channel: Identifier.optional(),
      state: SessionStatus.optional().describe('The SwitchyardState search attribute.'),
      includeClosed: z.boolean().default(false).describe('Include sessions whose workflow is closed (one entry per session).'),
      limit: z.number().int().min(1).max(LIST_MAX).default(50),
    }),
    result: z.object({
      sessions: z.array(
        z.object({
          sessionKey: z.string(),
          agentId: z.string().optional(),
          channel: z.string().optional(),
          state: z.string().optional(),
          workflowId: z.string(),
          runId: z.string(),
          status: z.string().describe("Temporal's execution status: RUNNING, COMPLETED, CONTINUED_AS_NEW, TERMINATED, ..."),
          startTime: z.number(),
          closeTime: z.number().optional(),
        }),
      ),
      more: z.boolean(),
    }),
    errors: [APP_ERRORS.temporalUnavailable.code],
    example: { agent: 'main', limit: 20 },
    handler: async (params, { services }) => {
      try {
        return await services.sessions.list(params);
      } catch (error) {
        const code = grpcCode(error);
        if (code === UNAVAILABLE || code === DEADLINE_EXCEEDED) throw temporalUnavailableError();
        throw error;
      }
    },
  }),
  defineMethod({
    name: 'sessions.get',
    description: "A session's state, from its workflow: idle, running or cancelling, the queue, the current turn, the Claude session id, turns, cost and the last event seq.",
    params: SessionKeyParams,
    result: SessionStateSchema,
    errors: QUERY_ERRORS,
    example: { sessionKey: 'agent:main:main' },
    scopes: ['operator', 'adapter'],
    handler: ({ sessionKey }, { services, peer }) => {
      assertSessionAccess(peer.principal, 'sessions.get', sessionKey);
      return onSession(services, sessionKey, () => services.sessions.state(sessionKey), true);
    },
  }),
  defineMethod({
    name: 'sessions.history',
    description:
      "A page of a session's durable events (turn.queued, turn.started, turn.completed, turn.failed, turn.cancelled) after `afterSeq`, oldest first. The session keeps a bounded window: `firstSeq` is the oldest still held. Read on with `afterSeq` = the last seq while `more`.",
    params: z.strictObject({
      sessionKey: SessionKey,
      afterSeq: Seq.default(0).describe('Events with a greater seq; 0 for the oldest held.'),
      limit: z.number().int().min(1).max(1000).default(100),
    }),
    result: z.object({
      events: z.array(SessionEventSchema),
      firstSeq: z.number().int().describe('The oldest seq still held.'),
      lastSeq: z.number().int().describe('The newest seq recorded.'),
      more: z.boolean(),
    }),
    errors: QUERY_ERRORS,
    example: { sessionKey: 'agent:main:main', afterSeq: 0, limit: 100 },
    scopes: ['operator', 'adapter'],
    handler: async ({ sessionKey, afterSeq, limit }, { services, peer }) => {
      assertSessionAccess(peer.principal, 'sessions.history', sessionKey);
      const page = await onSession(services, sessionKey, () => services.sessions.events(sessionKey, { afterSeq, limit }), true);
      const newest = page.events.at(-1)?.seq ?? afterSeq;
      return { events: page.events, firstSeq: page.firstSeq, lastSeq: page.lastSeq, more: newest < page.lastSeq };
    },
  }),
  defineMethod({
    name: 'sessions.cancel',
    description:
      'Cancels the running turn (it ends with turn.cancelled and its CLI process is stopped); with `clearQueue`, the queued messages too. Answers once Temporal holds the request.',
    params: z.strictObject({
      sessionKey: SessionKey,
      reason: z.string().max(1000).optional().describe('Recorded in the turn.cancelled event.'),
      clearQueue: z.boolean().optional().describe('Also drop the queued messages (each gets turn.cancelled).'),
    }),
    result: Accepted,
    errors: SESSION_ERRORS,
    example: { sessionKey: 'agent:main:main', reason: 'operator said stop' },
    handler: async ({ sessionKey, reason, clearQueue }, { services }) => {
      await onSession(services, sessionKey, () =>
        services.sessions.cancel(sessionKey, { ...(reason !== undefined ? { reason } : {}), ...(clearQueue !== undefined ? { clearQueue } : {}) }),
      );
      return { accepted: true as const, sessionKey };
    },
  }),
  defineMethod({
    name: 'sessions.reset',
    description: 'Makes the next turn start a fresh Claude session (after the running turn, if any). Answers once Temporal holds the request.',
    params: SessionKeyParams,
    result: Accepted,
    errors: SESSION_ERRORS,
    example: { sessionKey: 'agent:main:main' },
    handler: async ({ sessionKey }, { services }) => {
      await onSession(services, sessionKey, () => services.sessions.reset(sessionKey));
      return { accepted: true as const, sessionKey };
    },
  }),
  defineMethod({
    name: 'sessions.subscribe',
    description:
      'Pushes a session\'s events as `sessions.event` notifications, after this call\'s response. With `afterSeq`, the durable events after it are replayed from the workflow first, then live ones follow with no gap and no duplicate. Without it, events from now on. `*` subscribes to every session (live only: `afterSeq` is refused); `agent` narrows it. Subscribing to a session that does not exist yet is allowed.',
    params: z
      .strictObject({
        sessionKey: z.union([SessionKey, z.literal(ALL_SESSIONS)]).describe('A session key, or "*" for every session.'),
        agent: Identifier.optional().describe('Only events of this agent\'s sessions.'),
        afterSeq: Seq.optional().describe('Replay the durable events after this seq first (0: all still held). Session keys only.'),
      })
      .superRefine((params, context) => {
        if (params.sessionKey === ALL_SESSIONS && params.afterSeq !== undefined) {
          context.addIssue({ code: 'custom', path: ['afterSeq'], message: 'afterSeq needs a session key: "*" is live only' });
        }
        const keyAgent = params.sessionKey === ALL_SESSIONS ? undefined : parseSessionKey(params.sessionKey)?.agentId;
        if (params.agent !== undefined && keyAgent !== undefined && keyAgent !== params.agent) {
          context.addIssue({ code: 'custom', path: ['agent'], message: `does not match the session key's agent "${keyAgent}"` });
        }
      }),
    result: z.object({
      subscription: z.string().describe('Names this subscription in every notification and in sessions.unsubscribe.'),
      sessionKey: z.string(),
      replayed: z.number().int().describe('Durable events read from the workflow, sent right after this response.'),
      lastSeq: z.number().int().optional().describe('With afterSeq: the newest seq the session had recorded (0: no session yet).'),
    }),
    errors: [APP_ERRORS.tooManySubscriptions.code, ...QUERY_ERRORS.filter((code) => code !== APP_ERRORS.sessionNotFound.code)],
    example: { sessionKey: 'agent:main:main', afterSeq: 0 },
    scopes: ['operator', 'adapter'],
    handler: async ({ sessionKey, agent, afterSeq }, { services, peer, afterResponse }) => {
      assertSessionAccess(peer.principal, 'sessions.subscribe', sessionKey);
      const limit = services.config.gateway.rpc.maxSubscriptions;
      if (peer.subscriptions.size >= limit) throw RpcError.app('tooManySubscriptions', { limit });
      const subscription = new SessionSubscription(
        services.hub,
        (key, request) => services.client.withDeadline(Date.now() + QUERY_TIMEOUT_MS, () => services.sessions.events(key, request)),
        {
          event: (event) => peer.notify('sessions.event', event),
          gap: (gap) => peer.notify('sessions.gap', gap),
          overflow: () => peer.closeSlow(`more than the events a subscription may hold while it reads the session were waiting`),
        },
        { id: randomUUID(), sessionKey, ...(agent !== undefined ? { agent } : {}), ...(afterSeq !== undefined ? { afterSeq } : {}) },
      );
      const primed = await onSession(services, sessionKey, () => subscription.prime(), true);
      peer.addSubscription(subscription);
      afterResponse(() => subscription.start());
      return {
        subscription: subscription.id,
        sessionKey,
        replayed: primed.replayed,
        ...(primed.lastSeq !== undefined ? { lastSeq: primed.lastSeq } : {}),
      };
    },
  }),
  defineMethod({
    name: 'sessions.unsubscribe',
    description: 'Ends a subscription of this connection; no notification for it follows the response. Closing the connection ends all of them.',
    params: z.strictObject({ subscription: z.string().min(1) }),
    result: z.object({ unsubscribed: z.literal(true), subscription: z.string() }),
    errors: [APP_ERRORS.subscriptionNotFound.code],
    example: { subscription: '5b0c1a8e-7f0e-4a57-9d7c-1f9e0c2d3b4a' },
    scopes: ['operator', 'adapter'],
    handler: ({ subscription }, { peer }) => {
      if (!peer.removeSubscription(subscription)) throw RpcError.app('subscriptionNotFound', { subscription });
      return { unsubscribed: true as const, subscription };
    },
  }),
] as const;
