// A small typed client of Switchyard's WebSocket JSON-RPC API (docs/rpc.md): calls typed from
// the server's method table, notifications, subscriptions as async iterators, and a
// subscription that survives reconnects by resuming with `afterSeq`.
//
//   const rpc = await RpcClient.connect('ws://127.0.0.1:8420/rpc', { token });
//   const { messageId } = await rpc.call('sessions.send', { message: 'hi' });
//   for await (const event of await rpc.subscribe({ sessionKey: 'agent:main:main' })) ...
//
// Only types come from api/ (erased at run time): the client needs `ws` and nothing else.
import type { IncomingMessage } from 'node:http';
import WebSocket from 'ws';
import type { ParamsOf, ResultOf } from '../api/rpc/method.js';
import type { CoreMethodName, CoreMethods } from '../api/rpc/methods/index.js';
import type { SessionEventType } from '../contracts/events.js';

export type { CoreMethodName, CoreMethods };
export type RpcParams<M extends CoreMethodName> = ParamsOf<CoreMethods[M]>;
export type RpcResult<M extends CoreMethodName> = ResultOf<CoreMethods[M]>;
type OptionalIfEmpty<P> = {} extends P ? [params?: P] : [params: P];

export type RpcId = string | number | null;
export interface RpcErrorObject {
  code: number;
  message: string;
  data?: unknown;
}
export type RpcResponse = { jsonrpc: '2.0'; id: RpcId; result: unknown } | { jsonrpc: '2.0'; id: RpcId; error: RpcErrorObject };

export const SUBPROTOCOL = 'switchyard.v1';
export const BEARER_SUBPROTOCOL_PREFIX = 'switchyard.bearer.';

/** The `sessions.event` notification's params. */
export interface SessionEventMessage {
  subscription: string;
  sessionKey: string;
  seq?: number;
  turnId: string;
  type: SessionEventType;
  data: Record<string, unknown>;
  ts: number;
}

/** The `sessions.gap` notification's params: events between the two seqs could not be delivered. */
export interface SessionGapMessage {
  subscription: string;
  sessionKey: string;
  afterSeq: number;
  beforeSeq: number;
  reason: string;
}

/** The `connection.closing` notification's params: the server's last word before it closes. */
export interface ClosingMessage {
  code: number;
  reason: string;
  detail: string;
}

/** The server answered a call with a JSON-RPC error. */
export class RpcResponseError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = 'RpcResponseError';
  }
}

/** The WebSocket could not be opened: refused at the upgrade (`status` set) or unreachable. */
export class RpcConnectError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    readonly body?: unknown,
  ) {
    super(message);
    this.name = 'RpcConnectError';
  }
}

/** The connection closed before the call was answered. */
export class RpcClosedError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
  ) {
    super(`connection closed (${code}${reason ? `: ${reason}` : ''})`);
    this.name = 'RpcClosedError';
  }
}

export interface ConnectOptions {
  /** Bearer token; default none. */
  token?: string;
  /** How to send the token: the Authorization header (default) or the subprotocol (as browsers must). */
  tokenVia?: 'header' | 'subprotocol';
  /** Handshake timeout in milliseconds; default 10 s. */
  connectTimeoutMs?: number;
  /** Largest frame accepted from the server, in bytes; default 100 MiB. */
  maxPayload?: number;
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  /** Runs synchronously when the answer arrives, before any later frame is handled. */
  onResult?(result: unknown): void;
}

export type NotificationListener = (method: string, params: unknown) => void;

export class RpcClient {
  private nextId = 1;
  private readonly pending = new Map<RpcId, Pending>();
  private readonly batches = new Map<string, (responses: RpcResponse[]) => void>();
  private readonly listeners = new Set<NotificationListener>();
  private readonly streams = new Map<string, EventStream>();
  private closeInfo: { code: number; reason: string } | undefined;
  /** The server's `connection.closing` notice, when it sent one. */
  closing: ClosingMessage | undefined;
  /** Resolves when the connection has closed. */
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly socket: WebSocket) {
    this.closed = new Promise((resolve) => {
      socket.on('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString() };
        const error = new RpcClosedError(code, this.closeInfo.reason);
        for (const pending of this.pending.values()) pending.reject(error);
        this.pending.clear();
        for (const stream of this.streams.values()) stream.end(this.closeInfo);
        this.streams.clear();
        resolve(this.closeInfo);
      });
    });
    socket.on('message', (data) => this.onFrame(data.toString()));
    socket.on('error', () => undefined);
  }

  static async connect(url: string, options: ConnectOptions = {}): Promise<RpcClient> {
    const headers: Record<string, string> = {};
    const protocols: string[] = [];
    if (options.token !== undefined) {
      if (options.tokenVia === 'subprotocol') protocols.push(SUBPROTOCOL, `${BEARER_SUBPROTOCOL_PREFIX}${options.token}`);
      else headers.authorization = `Bearer ${options.token}`;
    }
    const socket = new WebSocket(url, protocols, {
      headers,
      handshakeTimeout: options.connectTimeoutMs ?? 10_000,
      maxPayload: options.maxPayload ?? 100 * 1024 * 1024,
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('unexpected-response', (_request, response: IncomingMessage) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => {
          let body: unknown = text;
          try {
            body = JSON.parse(text);
          } catch {
            // not JSON: keep the text
          }
          const message = (body as { error?: { message?: string } })?.error?.message ?? (text || response.statusMessage);
          reject(new RpcConnectError(`${url}: ${response.statusCode} ${message}`, response.statusCode, body));
          socket.terminate();
        });
      });
      socket.once('error', (error) => reject(new RpcConnectError(`${url}: ${error.message}`)));
    });
    return new RpcClient(socket);
  }

  get isOpen(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  /** Calls a method and resolves with its result; rejects with RpcResponseError on an error answer. */
  call<M extends CoreMethodName>(method: M, ...params: OptionalIfEmpty<RpcParams<M>>): Promise<RpcResult<M>>;
  call(method: string, params?: unknown): Promise<unknown>;
  call(method: string, params?: unknown): Promise<unknown> {
    return this.request(method, params);
  }

  /** Sends a notification: no answer comes, not even an error. */
  notify(method: string, params?: unknown): void {
    this.send({ jsonrpc: '2.0', method, ...(params === undefined ? {} : { params }) });
  }

  /**
   * Sends requests (and notifications, `notification: true`) as one batch; resolves with the
   * responses in the order of the requests (the notifications have none).
   */
  async batch(requests: { method: string; params?: unknown; notification?: boolean }[]): Promise<RpcResponse[]> {
    const frames = requests.map((request) => ({
      jsonrpc: '2.0' as const,
      method: request.method,
      ...(request.params === undefined ? {} : { params: request.params }),
      ...(request.notification ? {} : { id: `b${this.nextId++}` }),
    }));
    const ids = frames.flatMap((frame) => ('id' in frame ? [frame.id] : []));
    if (ids.length === 0) {
      this.send(frames);
      return [];
    }
    const key = ids[0]!;
    const answered = new Promise<RpcResponse[]>((resolve, reject) => {
      this.batches.set(key, (responses) => resolve(ids.map((id) => responses.find((response) => response.id === id)!)));
      this.closed.then((info) => reject(new RpcClosedError(info.code, info.reason)));
    });
    this.send(frames);
    return answered;
  }

  /** Every notification (events, gaps, `connection.closing`); returns the unsubscribe function. */
  onNotification(listener: NotificationListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * `sessions.subscribe`, as an async iterator of its events. The iterator ends when the
   * subscription is unsubscribed or the connection closes (then `stream.closedWith` says how).
   */
  async subscribe(params: RpcParams<'sessions.subscribe'>): Promise<EventStream> {
    let stream: EventStream | undefined;
    await this.request('sessions.subscribe', params, (result) => {
      const { subscription } = result as RpcResult<'sessions.subscribe'>;
      stream = new EventStream(subscription, result as RpcResult<'sessions.subscribe'>, () => this.unsubscribe(subscription));
      this.streams.set(subscription, stream);
    });
    return stream!;
  }

  async close(code = 1000, reason = ''): Promise<void> {
    if (this.closeInfo) return;
    this.socket.close(code, reason);
    await this.closed;
  }

  private async unsubscribe(subscription: string): Promise<void> {
    const stream = this.streams.get(subscription);
    this.streams.delete(subscription);
    stream?.end(undefined);
    if (this.isOpen) await this.request('sessions.unsubscribe', { subscription });
  }

  private request(method: string, params: unknown, onResult?: (result: unknown) => void): Promise<unknown> {
    if (this.closeInfo) return Promise.reject(new RpcClosedError(this.closeInfo.code, this.closeInfo.reason));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, ...(onResult ? { onResult } : {}) });
      try {
        this.send({ jsonrpc: '2.0', method, ...(params === undefined ? {} : { params }), id });
      } catch (error) {
        this.pending.delete(id);
        reject(error as Error);
      }
    });
  }

  private send(frame: unknown): void {
    this.socket.send(JSON.stringify(frame));
  }

  private onFrame(text: string): void {
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    if (Array.isArray(message)) {
      const responses = message as RpcResponse[];
      for (const response of responses) {
        const settle = this.batches.get(response.id as string);
        if (settle) {
          this.batches.delete(response.id as string);
          settle(responses);
          return;
        }
      }
      return;
    }
    const frame = message as Partial<RpcResponse> & { method?: string; params?: unknown };
    if (typeof frame.method === 'string' && !('id' in frame)) return this.dispatchNotification(frame.method, frame.params);
    const pending = this.pending.get(frame.id ?? null);
    if (!pending) return;
    this.pending.delete(frame.id ?? null);
    if ('error' in frame && frame.error) {
      pending.reject(new RpcResponseError(frame.error.code, frame.error.message, frame.error.data));
      return;
    }
    try {
      pending.onResult?.((frame as { result: unknown }).result);
    } catch (error) {
      pending.reject(error as Error);
      return;
    }
    pending.resolve((frame as { result: unknown }).result);
  }

  private dispatchNotification(method: string, params: unknown): void {
    if (method === 'connection.closing') this.closing = params as ClosingMessage;
    if (method === 'sessions.event' || method === 'sessions.gap') {
      const subscription = (params as { subscription?: string } | undefined)?.subscription;
      const stream = subscription === undefined ? undefined : this.streams.get(subscription);
      if (stream) {
        if (method === 'sessions.event') stream.push(params as SessionEventMessage);
        else stream.gap(params as SessionGapMessage);
      }
    }
    for (const listener of this.listeners) listener(method, params);
  }
}

/** One subscription's events, in order, as an async iterator. */
export class EventStream implements AsyncIterable<SessionEventMessage> {
  private readonly buffer: SessionEventMessage[] = [];
  private waiting: ((result: IteratorResult<SessionEventMessage>) => void) | undefined;
  private ended = false;
  /** Gaps the server reported (events it could not deliver). */
  readonly gaps: SessionGapMessage[] = [];
  /** The last durable seq received. */
  lastSeq: number | undefined;
  /** How the connection closed, when that ended the stream. */
  closedWith: { code: number; reason: string } | undefined;

  constructor(
    readonly id: string,
    readonly subscribed: RpcResult<'sessions.subscribe'>,
    private readonly onUnsubscribe: () => Promise<void>,
  ) {}

  push(event: SessionEventMessage): void {
    if (this.ended) return;
    if (event.seq !== undefined) this.lastSeq = event.seq;
    if (this.waiting) {
      const waiting = this.waiting;
      this.waiting = undefined;
      waiting({ value: event, done: false });
    } else this.buffer.push(event);
  }

  gap(gap: SessionGapMessage): void {
    this.gaps.push(gap);
    this.lastSeq = Math.max(this.lastSeq ?? 0, gap.beforeSeq - 1);
  }

  end(closedWith: { code: number; reason: string } | undefined): void {
    if (this.ended) return;
    this.ended = true;
    this.closedWith = closedWith;
    if (this.waiting) {
      const waiting = this.waiting;
      this.waiting = undefined;
      waiting({ value: undefined, done: true });
    }
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /** The next event; undefined once the stream has ended. */
  async next(): Promise<SessionEventMessage | undefined> {
    const result = await this.nextResult();
    return result.done ? undefined : result.value;
  }

  async unsubscribe(): Promise<void> {
    await this.onUnsubscribe();
  }

  [Symbol.asyncIterator](): AsyncIterator<SessionEventMessage> {
    return {
      next: () => this.nextResult(),
      return: async () => {
        if (!this.ended) await this.onUnsubscribe().catch(() => undefined);
        return { value: undefined, done: true };
      },
    };
  }

  private nextResult(): Promise<IteratorResult<SessionEventMessage>> {
    const event = this.buffer.shift();
    if (event) return Promise.resolve({ value: event, done: false });
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => (this.waiting = resolve));
  }
}

export interface ResumeOptions extends ConnectOptions {
  /** Delay before the first reconnect attempt; doubles up to `maxDelayMs`. Default 250 ms. */
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** Called after each reconnect, with the afterSeq it resumed from. */
  onReconnect?: (afterSeq: number | undefined) => void;
}

/**
 * A subscription to one session that survives disconnects: when the connection drops (the
 * server restarts, closes a slow consumer with 1013, the network fails) it reconnects and
 * subscribes again with `afterSeq` = the last durable seq received, so that every durable
 * event arrives exactly once. Live-only events (turn.delta, turn.tool) sent while it was
 * away are lost. Iterate it; `close()` ends it.
 */
export class ResumableSubscription implements AsyncIterable<SessionEventMessage> {
  private client: RpcClient | undefined;
  private stream: EventStream | undefined;
  private stopped = false;
  lastSeq: number | undefined;
  reconnects = 0;

  constructor(
    private readonly url: string,
    private readonly params: RpcParams<'sessions.subscribe'>,
    private readonly options: ResumeOptions = {},
  ) {
    this.lastSeq = params.afterSeq;
  }

  /** The connection in use right now (undefined between connections). */
  get current(): RpcClient | undefined {
    return this.client;
  }

  async close(): Promise<void> {
    this.stopped = true;
    await this.client?.close();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<SessionEventMessage> {
    let delay = this.options.initialDelayMs ?? 250;
    let first = true;
    try {
      while (!this.stopped) {
        try {
          this.client = await RpcClient.connect(this.url, this.options);
          const afterSeq = this.lastSeq;
          this.stream = await this.client.subscribe({ ...this.params, ...(afterSeq !== undefined ? { afterSeq } : {}) });
          if (!first) this.options.onReconnect?.(afterSeq);
          first = false;
          delay = this.options.initialDelayMs ?? 250;
          for await (const event of this.stream) {
            this.lastSeq = this.stream.lastSeq ?? this.lastSeq;
            yield event;
            if (this.stopped) return;
          }
          this.lastSeq = this.stream.lastSeq ?? this.lastSeq;
        } catch (error) {
          // A refusal (bad token, bad params) will not fix itself.
          if (error instanceof RpcConnectError && error.status !== undefined && error.status < 500) throw error;
          if (error instanceof RpcResponseError && error.code === -32602) throw error;
        }
        if (this.stopped) return;
        this.reconnects += 1;
        await new Promise((resolve) => setTimeout(resolve, delay));
        delay = Math.min(delay * 2, this.options.maxDelayMs ?? 5000);
      }
    } finally {
      this.stopped = true;
      await this.client?.close();
    }
  }
}
