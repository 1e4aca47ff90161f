// JSON-RPC 2.0 (https://www.jsonrpc.org/specification), to the letter: the shapes of
// requests and responses, the reserved error codes and Switchyard's application codes.
// Nothing here knows about sockets or sessions.

export type RpcId = string | number | null;

export interface RpcRequest {
  jsonrpc: '2.0';
  method: string;
  /** Absent, or a structured value (array for positional, object for named parameters). */
  params?: unknown[] | Record<string, unknown>;
  /** Absent on a notification. */
  id?: RpcId;
}

export interface RpcErrorObject {
  code: number;
  message: string;
  data?: unknown;
}

export type RpcResponse =
  | { jsonrpc: '2.0'; result: unknown; id: RpcId }
  | { jsonrpc: '2.0'; error: RpcErrorObject; id: RpcId };

export interface RpcNotification {
  jsonrpc: '2.0';
  method: string;
  params?: unknown[] | Record<string, unknown>;
}

/** The codes the specification reserves, with its wording as the message. */
export const SPEC_ERRORS = {
  parseError: { code: -32700, message: 'Parse error' },
  invalidRequest: { code: -32600, message: 'Invalid Request' },
  methodNotFound: { code: -32601, message: 'Method not found' },
  invalidParams: { code: -32602, message: 'Invalid params' },
  internalError: { code: -32603, message: 'Internal error' },
} as const;

/**
 * Switchyard's application errors, in the range the specification leaves to servers
 * (-32000 to -32099). `docs/rpc.md` lists them from here.
 */
export const APP_ERRORS = {
  sessionNotFound: {
    code: -32001,
    message: 'Session not found',
    description: 'No session workflow with that key exists (it was never sent a message, or it was terminated). `data: { sessionKey }`.',
  },
  unknownAgent: {
    code: -32002,
    message: 'Unknown agent',
    description: 'The agent named by `agent` or by the session key is not configured. `data: { agent, path, knownAgents }`.',
  },
  temporalUnavailable: {
    code: -32003,
    message: 'Temporal unavailable',
    description:
      'Temporal could not be reached; nothing was accepted. Retry after `data.retryAfterMs` (with the same `idempotencyKey` for `sessions.send`).',
  },
  subscriptionNotFound: {
    code: -32004,
    message: 'Subscription not found',
    description: 'No subscription with that id on this connection (already unsubscribed, or made on another connection). `data: { subscription }`.',
  },
  tooManySubscriptions: {
    code: -32005,
    message: 'Too many subscriptions',
    description: 'The connection already holds `gateway.rpc.maxSubscriptions` subscriptions. `data: { limit }`.',
  },
  sessionNotAnswering: {
    code: -32006,
    message: 'Session not answering',
    description:
      'The session workflow exists but did not answer a query in time: usually no worker is running. `data: { sessionKey, retryAfterMs }`.',
  },
  cronJobNotFound: {
    code: -32010,
    message: 'Cron job not found',
    description: 'No cron job of that name (or a one-shot that already ran, for trigger and remove). `data: { name }`.',
  },
  cronJobExists: {
    code: -32011,
    message: 'Cron job exists',
    description: 'A cron job (or another schedule `cron:<name>`) of that name exists already. `data: { name }`.',
  },
  cronJobInConfig: {
    code: -32012,
    message: 'Cron job declared in config',
    description: 'The job comes from `cron.<name>` in the config, reconciled at every start: change or remove it there (pause, resume and trigger work). `data: { name }`.',
  },
  cronJobUnsupported: {
    code: -32013,
    message: 'Not supported for this cron job',
    description: 'The operation does not apply to this kind of job, e.g. pausing a one-shot (`at`). `data: { name }`.',
  },
  cronJobForeign: {
    code: -32014,
    message: 'Not a Switchyard cron job',
    description: 'A schedule or workflow `cron:<name>` exists but Switchyard did not create it; manage it with the temporal CLI. `data: { name }`.',
  },
  forbidden: {
    code: -32020,
    message: 'Forbidden',
    description:
      'The connection\'s token may not do this: a channel adapter\'s token may call only the methods marked "adapter" below, and only on its own channel\'s sessions. `data: { method, scope, channel?, reason? }`.',
  },
  channelNotFound: {
    code: -32021,
    message: 'Channel not found',
    description: 'No channel adapter of that name in the config (`channels.<name>`). `data: { name, channels }`.',
  },
  rateLimited: {
    code: -32029,
    message: 'Rate limited',
    description:
      'The connection exceeded `gateway.rpc.rateLimit`; the request was not run. Retry after `data.retryAfterMs`. A rate-limited notification is dropped silently.',
  },
} as const;

export type AppErrorName = keyof typeof APP_ERRORS;

/** Thrown by handlers (or mapped from other errors) to answer with a JSON-RPC error. */
export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = 'RpcError';
  }

  static app(name: AppErrorName, data?: unknown, message?: string): RpcError {
    const spec = APP_ERRORS[name];
    return new RpcError(spec.code, message ?? spec.message, data);
  }

  toObject(): RpcErrorObject {
    return { code: this.code, message: this.message, ...(this.data === undefined ? {} : { data: this.data }) };
  }
}

export function errorResponse(id: RpcId, error: RpcErrorObject): RpcResponse {
  return { jsonrpc: '2.0', error, id };
}

export function resultResponse(id: RpcId, result: unknown): RpcResponse {
  return { jsonrpc: '2.0', result, id };
}

export function specError(name: keyof typeof SPEC_ERRORS, data?: unknown): RpcErrorObject {
  const { code, message } = SPEC_ERRORS[name];
  return { code, message, ...(data === undefined ? {} : { data }) };
}

export function isValidId(value: unknown): value is RpcId {
  return value === null || typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value));
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export type Checked =
  | { ok: true; request: RpcRequest; notification: boolean }
  | { ok: false; id: RpcId; error: RpcErrorObject };

/**
 * Checks one element of a frame (or a batch) against the Request object's rules. A
 * malformed element is always answered (even without an id), with its id when that id is
 * itself valid and null otherwise. Members the specification does not define are ignored.
 */
export function checkRequest(value: unknown): Checked {
  if (!isPlainObject(value)) return { ok: false, id: null, error: specError('invalidRequest', { reason: 'a request must be a JSON object' }) };
  const hasId = Object.hasOwn(value, 'id');
  const id = hasId && isValidId(value.id) ? value.id : null;
  const invalid = (reason: string): Checked => ({ ok: false, id, error: specError('invalidRequest', { reason }) });
  if (value.jsonrpc !== '2.0') return invalid('"jsonrpc" must be exactly "2.0"');
  if (typeof value.method !== 'string') return invalid('"method" must be a string');
  if (hasId && !isValidId(value.id)) return invalid('"id" must be a string, a number or null');
  if (Object.hasOwn(value, 'params') && !(Array.isArray(value.params) || isPlainObject(value.params))) {
    return invalid('"params", when present, must be an array or an object');
  }
  const request: RpcRequest = { jsonrpc: '2.0', method: value.method };
  if (Object.hasOwn(value, 'params')) request.params = value.params as RpcRequest['params'];
  if (hasId) request.id = value.id as RpcId;
  return { ok: true, request, notification: !hasId };
}
