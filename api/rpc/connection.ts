// One WebSocket client of /rpc: its frames through the dispatcher, its bounded send
// buffer, its subscriptions, its rate limit and its liveness.
//
// Sending: frames go straight to the socket while the socket has little waiting
// (`bufferedAmount` under a small high-water mark); beyond that they wait in a queue of our
// own. When the socket's bytes plus the queue's would pass `sendBufferBytes`, the client is
// too slow: the queue is dropped, a final `connection.closing` notification says why, and
// the connection is closed with 1013 (terminated if it does not close in time). Other
// connections are unaffected; the client can reconnect and subscribe with `afterSeq`.
import { Buffer } from 'node:buffer';
import type { Logger } from 'pino';
import { WebSocket, type RawData } from 'ws';
import type { RpcPeer, RpcServices } from './context.js';
import { dispatchFrame } from './dispatcher.js';
import type { MethodTable } from './method.js';
import { TokenBucket } from './rate-limit.js';
import { OPERATOR, type RpcPrincipal } from './scopes.js';
import type { SessionSubscription } from './subscription.js';

export const CLOSE_CODES = {
  normal: 1000,
  goingAway: 1001,
  policy: 1008,
  tooBig: 1009,
  internal: 1011,
  tryAgainLater: 1013,
} as const;

/** How long a connection told to close may take before it is terminated. */
export const CLOSE_GRACE_MS = 2000;

/** How long an address whose connection ignored the rate limit (closed 1008) waits before it may open another. */
export const FLOOD_COOLDOWN_MS = 10_000;

export interface ConnectionLimits {
  sendBufferBytes: number;
  maxBatch: number;
  rateLimit: { requestsPerSecond: number; burst: number };
}

export interface ConnectionClosingParams extends Record<string, unknown> {
  code: number;
  reason: string;
  detail: string;
}

/** Refusals in a row after which a client is closed: ten bursts, at least a thousand. */
export function floodLimitFor(burst: number): number {
  return Math.max(1000, 10 * burst);
}

export class RpcConnection implements RpcPeer {
  readonly subscriptions = new Map<string, SessionSubscription>();
  /** Cleared by the ping timer; set again by any pong or frame. */
  alive = true;
  /** Closed because it could not keep up with what it was sent. */
  closedSlow = false;
  /** Frames waiting for the socket, from `head` on (an index, so that taking one is O(1)). */
  private queue: string[] = [];
  private head = 0;
  private queuedBytes = 0;
  private closing = false;
  private closed = false;
  private killTimer: NodeJS.Timeout | undefined;
  private readonly bucket: TokenBucket;
  /** Requests refused by the rate limit since the last one admitted. */
  private refusedInARow = 0;
  private readonly floodLimit: number;
  private readonly highWater: number;
  private readonly log: Logger;
  private readonly onWritten = (error?: Error) => {
    if (!error) this.drain();
  };

  constructor(
    readonly id: string,
    private readonly ws: WebSocket,
    private readonly table: MethodTable,
    private readonly services: RpcServices,
    private readonly limits: ConnectionLimits,
    logger: Logger,
    private readonly hooks: { closed(connection: RpcConnection): void; slow(connection: RpcConnection): void; flooded(connection: RpcConnection): void },
    readonly principal: RpcPrincipal = OPERATOR,
  ) {
    this.log = logger.child({ rpcConnection: id });
    this.bucket = new TokenBucket(limits.rateLimit.requestsPerSecond, limits.rateLimit.burst);
    this.floodLimit = floodLimitFor(limits.rateLimit.burst);
    this.highWater = Math.min(64 * 1024, Math.floor(limits.sendBufferBytes / 4));
    // Binary frames are read as UTF-8 text, like text frames.
    ws.on('message', (data) => this.onMessage(data));
    ws.on('pong', () => (this.alive = true));
    ws.on('error', (error) => this.log.debug({ err: error }, 'rpc: connection error'));
    ws.on('close', (code, reason) => this.onClose(code, reason.toString()));
  }

  get isClosing(): boolean {
    return this.closing || this.closed;
  }

  /** Bytes waiting to go out: the socket's and the queue's. */
  get pendingBytes(): number {
    return this.ws.bufferedAmount + this.queuedBytes;
  }

  notify(method: string, params: Record<string, unknown>): void {
    this.send(JSON.stringify({ jsonrpc: '2.0', method, params }));
  }

  addSubscription(subscription: SessionSubscription): void {
    // Closed while the subscription was being made: it must not outlive the connection.
    if (this.closing || this.closed) return subscription.close();
    this.subscriptions.set(subscription.id, subscription);
  }

  removeSubscription(id: string): boolean {
    const subscription = this.subscriptions.get(id);
    if (!subscription) return false;
    subscription.close();
    this.subscriptions.delete(id);
    return true;
  }

  /** Sends a ping, or terminates the peer if the previous one went unanswered. */
  heartbeat(): void {
    if (this.closed) return;
    if (!this.alive) {
      this.log.info('rpc: no pong since the last ping; terminating');
      this.ws.terminate();
      return;
    }
    this.alive = false;
    try {
      this.ws.ping();
    } catch {
      // Not open (closing): the close or the grace timer ends it.
    }
  }

  /** A final `connection.closing` notification, then a close frame; terminated if the peer does not close in time. */
  close(code: number, reason: string, detail: string): void {
    if (this.closing || this.closed) return;
    this.closing = true;
    this.clearQueue();
    this.disposeSubscriptions();
    if (this.ws.readyState === WebSocket.OPEN) {
      const params: ConnectionClosingParams = { code, reason, detail };
      this.ws.send(JSON.stringify({ jsonrpc: '2.0', method: 'connection.closing', params }));
      this.ws.close(code, reason);
    }
    this.killTimer = setTimeout(() => this.ws.terminate(), CLOSE_GRACE_MS);
    this.killTimer.unref();
  }

  /**
   * The rate limit, and a client that ignores it: one that keeps sending through
   * `floodLimit` refusals in a row is not reading its -32029s, and answering each would
   * spend the server's time on it at the expense of every other client. Closed with 1008.
   */
  private admit(): number | undefined {
    const waitMs = this.bucket.take();
    if (waitMs === undefined) {
      this.refusedInARow = 0;
      return undefined;
    }
    this.refusedInARow += 1;
    // A burst of refusals in a row: stop reading its socket until a token is due, so what it
    // sends meanwhile waits in TCP buffers (its own sends block) instead of costing this
    // process a refusal each.
    if (this.refusedInARow >= this.limits.rateLimit.burst && !this.ws.isPaused && this.ws.readyState === WebSocket.OPEN) {
      this.ws.pause();
      setTimeout(() => this.ws.resume(), waitMs).unref();
    }
    if (this.refusedInARow >= this.floodLimit) {
      this.log.info({ refused: this.refusedInARow }, 'rpc: closing a client that ignores the rate limit');
      this.hooks.flooded(this);
      this.close(CLOSE_CODES.policy, 'rate limit ignored', `${this.refusedInARow} requests in a row over the rate limit; wait data.retryAfterMs after a -32029 before sending again`);
    }
    return waitMs;
  }

  /** The client cannot keep up: closed with 1013 so that it reconnects (and resumes with afterSeq). */
  closeSlow(detail: string): void {
    if (this.closing || this.closed) return;
    this.closedSlow = true;
    this.hooks.slow(this);
    this.close(CLOSE_CODES.tryAgainLater, 'send buffer full', `${detail}; reconnect and subscribe with afterSeq to resume`);
  }

  terminate(): void {
    this.ws.terminate();
  }

  private send(text: string): void {
    if (this.closing || this.closed || this.ws.readyState !== WebSocket.OPEN) return;
    if (this.head === this.queue.length && this.ws.bufferedAmount < this.highWater) {
      this.ws.send(text, this.onWritten);
      return;
    }
    const bytes = Buffer.byteLength(text);
    if (this.pendingBytes + bytes > this.limits.sendBufferBytes) {
      this.log.warn({ pendingBytes: this.pendingBytes, limit: this.limits.sendBufferBytes }, 'rpc: client too slow; closing');
      this.closeSlow(`more than gateway.rpc.sendBufferBytes (${this.limits.sendBufferBytes}) bytes were waiting for this client`);
      return;
    }
    this.queue.push(text);
    this.queuedBytes += bytes;
  }

  private drain(): void {
    while (this.head < this.queue.length && !this.closing && this.ws.readyState === WebSocket.OPEN && this.ws.bufferedAmount < this.highWater) {
      const text = this.queue[this.head]!;
      this.queue[this.head++] = '';
      this.queuedBytes -= Buffer.byteLength(text);
      this.ws.send(text, this.onWritten);
    }
    if (this.head === this.queue.length) this.clearQueue();
    else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  private clearQueue(): void {
    this.queue = [];
    this.head = 0;
    this.queuedBytes = 0;
  }

  private onMessage(data: RawData): void {
    this.alive = true;
    if (this.closing) return;
    const text = (Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data)).toString('utf8');
    dispatchFrame(text, {
      table: this.table,
      services: this.services,
      peer: this,
      logger: this.log,
      maxBatch: this.limits.maxBatch,
      admit: () => this.admit(),
    })
      .then(({ response, after }) => {
        if (response !== undefined) this.send(response);
        for (const task of after) {
          try {
            task();
          } catch (error) {
            this.log.error({ err: error }, 'rpc: a task after a response failed');
          }
        }
      })
      .catch((error: unknown) => this.log.error({ err: error }, 'rpc: dispatch failed'));
  }

  private onClose(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.killTimer);
    this.clearQueue();
    this.disposeSubscriptions();
    this.log.debug({ code, reason }, 'rpc: connection closed');
    this.hooks.closed(this);
  }

  private disposeSubscriptions(): void {
    for (const subscription of this.subscriptions.values()) subscription.close();
    this.subscriptions.clear();
  }
}
