// The answer every hook route gives once a message is accepted: 202 with the ids (async),
// or the turn's outcome (sync), or 504 with the ids to follow up when the wait runs out.
import type { FastifyReply } from 'fastify';
import { ApiError } from '../errors.js';
import { acceptedIds, type SendReceipt, type SessionService } from '../session-service.js';

export type HookMode = 'async' | 'sync';


export async function answerAccepted(
  reply: FastifyReply,
  sessions: SessionService,
  receipt: SendReceipt,
  mode: HookMode,
  timeoutMs: number,
): Promise<FastifyReply> {
  const ids = acceptedIds(receipt);
  if (mode === 'async') return reply.code(202).send(ids);
  const outcome = await sessions.waitForOutcome(receipt.sessionKey, receipt.messageId, timeoutMs);
  if (!outcome) {
    throw new ApiError(504, 'turn_timeout', `no answer within ${timeoutMs} ms; the message is accepted and will still be answered`, ids);
  }
  const status = outcome.type.slice('turn.'.length);
  return reply.code(200).send({ ...ids, status, turnId: outcome.turnId, seq: outcome.seq, ...outcome.data });
}
