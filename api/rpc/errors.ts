// Maps what handlers throw to JSON-RPC errors: RpcError as is, the HTTP layer's ApiError by
// its code, Temporal's "not there" to -32003, anything else to -32603 with nothing of its
// internals (an error id to find it in the log instead).
import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { z } from 'zod';
import { ApiError } from '../errors.js';
import { isTemporalUnavailable } from '../temporal-errors.js';
import { RpcError, specError, type RpcErrorObject } from './protocol.js';

export const TEMPORAL_RETRY_AFTER_MS = 5000;

export interface RpcIssue {
  path: (string | number)[];
  message: string;
  code?: string;
}

/** zod's issues as `error.data.issues` of -32602: the path within `params`, the message, zod's code. */
export function zodIssues(error: z.ZodError): RpcIssue[] {
  return error.issues.map((issue) => ({
    path: issue.path.map((segment) => (typeof segment === 'number' ? segment : String(segment))),
    message: issue.message,
    code: issue.code,
  }));
}

export function invalidParams(issues: RpcIssue[]): RpcError {
  const first = issues[0];
  const where = first && first.path.length > 0 ? `params.${first.path.join('.')}` : 'params';
  return new RpcError(specError('invalidParams').code, `Invalid params: ${where}: ${first?.message ?? 'invalid'}`, { issues });
}

/** "body.sessionKey" (the HTTP layer's paths) → ["sessionKey"]. */
function paramsPath(path: unknown): (string | number)[] {
  return String(path ?? '')
    .split('.')
    .filter((segment, index) => segment !== '' && !(index === 0 && segment === 'body'));
}

export function temporalUnavailableError(): RpcError {
  return RpcError.app('temporalUnavailable', {
    retryAfterMs: TEMPORAL_RETRY_AFTER_MS,
    hint: 'Temporal is unreachable; nothing was accepted. Retry later (sessions.send: with the same idempotencyKey).',
  });
}

export interface MappedError {
  error: RpcErrorObject;
  /** Set for -32603: the id under which the cause was logged. */
  errorId?: string;
}

export function toRpcError(error: unknown): MappedError {
  if (error instanceof RpcError) return { error: error.toObject() };
  if (error instanceof ApiError) {
    const issues = ((error.details as { issues?: { path?: unknown; message?: unknown }[] } | undefined)?.issues ?? []).map((issue) => ({
      path: paramsPath(issue.path),
      message: String(issue.message ?? error.message),
    }));
    if (error.code === 'unknown_agent') {
      const agent = /"([^"]+)"/.exec(error.message)?.[1];
      return { error: RpcError.app('unknownAgent', { agent, path: issues[0]?.path ?? [], message: error.message.replace(/^body\./, 'params.') }).toObject() };
    }
    if (error.code === 'invalid_input') return { error: invalidParams(issues.length > 0 ? issues : [{ path: [], message: error.message }]).toObject() };
  }
  if (isTemporalUnavailable(error)) return { error: temporalUnavailableError().toObject() };
  if (error instanceof WorkflowNotFoundError) return { error: RpcError.app('sessionNotFound', { workflowId: error.workflowId }).toObject() };
  const errorId = randomUUID();
  return { error: specError('internalError', { errorId }), errorId };
}
