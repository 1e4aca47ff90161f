// One incoming frame in, at most one outgoing frame out: parsing, batches, notifications,
// validation against the method table, and errors, following JSON-RPC 2.0 to the letter.
// Requests of a batch run concurrently; their responses keep the batch's order.
import type { Logger } from 'pino';
import type { RpcCallContext, RpcPeer, RpcServices } from './context.js';
import { invalidParams, toRpcError, zodIssues } from './errors.js';
import type { MethodTable } from './method.js';
import { RpcError, checkRequest, errorResponse, resultResponse, specError, type RpcResponse } from './protocol.js';
import { forbidden, mayCall } from './scopes.js';

export interface DispatchEnv {
  table: MethodTable;
  services: RpcServices;
  peer: RpcPeer;
  logger: Logger;
  maxBatch: number;
  /** Admits one request: undefined when allowed, else milliseconds until it would be. */
  admit(): number | undefined;
}

export interface Dispatched {
  /** The serialized response frame; undefined when the specification says nothing is sent. */
  response?: string;
  /** To run once the response is queued (subscriptions start delivering then). */
  after: (() => void)[];
}

export async function dispatchFrame(text: string, env: DispatchEnv): Promise<Dispatched> {
  const after: (() => void)[] = [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return { response: JSON.stringify(errorResponse(null, specError('parseError', { reason: (error as Error).message }))), after };
  }
  if (Array.isArray(parsed)) {
    if (parsed.length === 0) return { response: JSON.stringify(errorResponse(null, specError('invalidRequest', { reason: 'an empty batch' }))), after };
    if (parsed.length > env.maxBatch) {
      return {
        response: JSON.stringify(
          errorResponse(null, specError('invalidRequest', { reason: `a batch holds at most ${env.maxBatch} requests`, maxBatch: env.maxBatch })),
        ),
        after,
      };
    }
    const responses = (await Promise.all(parsed.map((element) => dispatchOne(element, env, after)))).filter((r): r is RpcResponse => r !== undefined);
    return { response: responses.length > 0 ? JSON.stringify(responses) : undefined, after };
  }
  const response = await dispatchOne(parsed, env, after);
  return { response: response === undefined ? undefined : JSON.stringify(response), after };
}

function observeCall(env: DispatchEnv, name: string, response: RpcResponse, started: number): void {
  const metrics = env.services.metrics;
  if (!metrics) return;
  // Only names of the table become labels: a client's invented names would be unbounded.
  const method = env.table.get(name) ? name : '(unknown)';
  metrics.rpcCalls.inc({ method, code: 'error' in response ? String(response.error.code) : 'ok' });
  metrics.rpcCallDuration.observe({ method }, (performance.now() - started) / 1000);
}

/** One request or notification; never throws. */
async function dispatchOne(element: unknown, env: DispatchEnv, after: (() => void)[]): Promise<RpcResponse | undefined> {
  const started = performance.now();
  const checked = checkRequest(element);
  if (!checked.ok) {
    env.services.metrics?.rpcCalls.inc({ method: '(invalid)', code: String(checked.error.code) });
    return errorResponse(checked.id, checked.error);
  }
  const { request, notification } = checked;
  const id = request.id ?? null;
  const answer = (response: RpcResponse) => {
    observeCall(env, request.method, response, started);
    return notification ? undefined : response;
  };

  const waitMs = env.admit();
  if (waitMs !== undefined) return answer(errorResponse(id, RpcError.app('rateLimited', { retryAfterMs: waitMs }).toObject()));

  const method = env.table.get(request.method);
  if (!method) return answer(errorResponse(id, specError('methodNotFound', { method: request.method })));
  if (!mayCall(env.peer.principal, method)) return answer(errorResponse(id, forbidden(method.name, env.peer.principal).toObject()));

  const params = method.params.safeParse(request.params ?? {});
  if (!params.success) return answer(errorResponse(id, invalidParams(zodIssues(params.error)).toObject()));

  const tasks: (() => void)[] = [];
  const context: RpcCallContext = {
    services: env.services,
    peer: env.peer,
    logger: env.logger,
    requestId: request.id,
    afterResponse: (task) => void tasks.push(task),
  };
  try {
    const raw = await method.handler(params.data, context);
    const result = method.result.safeParse(raw);
    if (!result.success) {
      const mapped = toRpcError(new Error('result does not match its schema'));
      env.logger.error({ method: request.method, errorId: mapped.errorId, issues: result.error.issues }, 'rpc: a handler returned a result outside its schema');
      return answer(errorResponse(id, mapped.error));
    }
    after.push(...tasks);
    return answer(resultResponse(id, result.data));
  } catch (error) {
    const mapped = toRpcError(error);
    if (mapped.errorId) env.logger.error({ err: error, method: request.method, errorId: mapped.errorId }, 'rpc: method failed');
    else env.logger.debug({ method: request.method, code: mapped.error.code }, 'rpc: method answered with an error');
    return answer(errorResponse(id, mapped.error));
  }
}
