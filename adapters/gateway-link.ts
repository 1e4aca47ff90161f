// What every channel adapter needs from the gateway, over its JSON-RPC API (docs/channels.md):
// send a peer's message into its session (`sessions.send` with `channel` and `peer`), follow
// that session's durable events, and hand each reply (turn.completed, turn.failed,
// turn.cancelled) to the adapter, in order, until the adapter says it is delivered.
//
// Delivery survives restarts: the link keeps, per session, the last seq it delivered in a
// small state file, and subscribes again with `afterSeq` = that seq after a reconnect or a
// restart, so a reply that came while the adapter was down is delivered when it is back
// (at least once: a reply whose delivery was interrupted is delivered again).
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { RpcClient, RpcConnectError, RpcResponseError, type SessionEventMessage } from '../client/rpc-client.js';
import { channelSessionKey } from '../contracts/names.js';

export type ReplyType = 'turn.completed' | 'turn.failed' | 'turn.cancelled';
const REPLY_TYPES = new Set<string>(['turn.completed', 'turn.failed', 'turn.cancelled']);

export interface Reply {
  channel: string;
  peer: string;
  sessionKey: string;
  turnId: string;
  seq: number;
  type: ReplyType;
  /** turn.completed: the agent's answer. */
  text?: string;
  /** turn.failed, turn.cancelled: why. */
  reason?: string;
  messageIds: string[];
  ts: number;
}

export interface GatewayLinkOptions {
  /** ws://host:port/rpc ($SWITCHYARD_URL). */
  url: string;
  /** $SWITCHYARD_TOKEN: the adapter's scoped token (or, run by hand, the gateway token). */
  token?: string;
  channel: string;
  agent: string;
  /** Where the last delivered seq of each session is kept; none: replies that came while the adapter was down are lost. */
  stateFile?: string;
  /** Delivers one reply; resolve once it is delivered. A rejection is retried with backoff. */
  onReply: (reply: Reply) => Promise<void>;
  log?: (line: string) => void;
}

/** The gateway refused the token: retrying will not help. */
export class LinkAuthError extends Error {
  override name = 'LinkAuthError';
}

interface Followed {
  peer: string;
  /** Last seq delivered (or skipped as not a reply). */
  lastSeq: number;
  /** Events of this session, one at a time. */
  chain: Promise<void>;
}

interface StateFile {
  version: 1;
  sessions: Record<string, { peer: string; lastSeq: number }>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class GatewayLink {
  private client: RpcClient | undefined;
  private connecting: Promise<RpcClient> | undefined;
  private readonly sessions = new Map<string, Followed>();
  private closed = false;
  private readonly log: (line: string) => void;
  /** Resolves when the link gives up for good (a refused token), with the reason. */
  readonly failed: Promise<Error>;
  private fail!: (error: Error) => void;

  constructor(private readonly options: GatewayLinkOptions) {
    this.log = options.log ?? (() => undefined);
    this.failed = new Promise((resolve) => (this.fail = resolve));
    for (const [sessionKey, entry] of Object.entries(this.readState().sessions)) {
      this.sessions.set(sessionKey, { peer: entry.peer, lastSeq: entry.lastSeq, chain: Promise.resolve() });
    }
  }

  sessionKeyOf(peer: string): string {
    return channelSessionKey(this.options.agent, this.options.channel, peer);
  }

  /** Connects and resubscribes every session of the state file from its last delivered seq. */
  async start(): Promise<void> {
    await this.connection();
  }

  /** Sends a peer's message; its session is followed first, so no reply can be missed. */
  async send(peer: string, message: string, idempotencyKey?: string): Promise<{ sessionKey: string; messageId: string; duplicate: boolean }> {
    const sessionKey = this.sessionKeyOf(peer);
    const client = await this.connection();
    if (!this.sessions.has(sessionKey)) {
      const lastSeq = await this.currentSeq(client, sessionKey);
      this.sessions.set(sessionKey, { peer, lastSeq, chain: Promise.resolve() });
      this.writeState();
      await this.subscribe(client, sessionKey);
    }
    const result = await client.call('sessions.send', {
      message,
      channel: this.options.channel,
      peer,
      agent: this.options.agent,
      ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
    });
    return { sessionKey: result.sessionKey, messageId: result.messageId, duplicate: result.duplicate };
  }

  /** Waits until every event received so far has been handled. */
  async idle(): Promise<void> {
    await Promise.all([...this.sessions.values()].map((entry) => entry.chain));
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.client?.close().catch(() => undefined);
  }

  /** The open connection, or a new one (retried with backoff) with every session resubscribed. */
  private connection(): Promise<RpcClient> {
    if (this.client?.isOpen) return Promise.resolve(this.client);
    this.connecting ??= this.connect().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async connect(): Promise<RpcClient> {
    let delay = 250;
    for (;;) {
      if (this.closed) throw new Error('the link is closed');
      try {
        const client = await RpcClient.connect(this.options.url, this.options.token ? { token: this.options.token } : {});
        client.onNotification((method, params) => {
          if (method === 'sessions.event') this.onEvent(params as SessionEventMessage);
        });
        void client.closed.then(({ code }) => {
          if (this.closed || this.client !== client) return;
          this.log(`connection to the gateway closed (${code}); reconnecting`);
          this.client = undefined;
          void this.connection().catch(() => undefined);
        });
        for (const sessionKey of this.sessions.keys()) await this.subscribe(client, sessionKey);
        this.client = client;
        return client;
      } catch (error) {
        if (error instanceof RpcConnectError && (error.status === 401 || error.status === 403)) {
          const refused = new LinkAuthError(`the gateway refused the token: ${error.message}`);
          this.fail(refused);
          throw refused;
        }
        this.log(`cannot reach the gateway (${(error as Error).message}); retrying in ${delay} ms`);
        await sleep(delay);
        delay = Math.min(delay * 2, 5000);
      }
    }
  }

  private async currentSeq(client: RpcClient, sessionKey: string): Promise<number> {
    try {
      return (await client.call('sessions.get', { sessionKey })).lastSeq;
    } catch (error) {
      if (error instanceof RpcResponseError && error.code === -32001) return 0; // no session yet
      throw error;
    }
  }

  private async subscribe(client: RpcClient, sessionKey: string): Promise<void> {
    const entry = this.sessions.get(sessionKey)!;
    await client.call('sessions.subscribe', { sessionKey, afterSeq: entry.lastSeq });
  }

  private onEvent(event: SessionEventMessage): void {
    const entry = this.sessions.get(event.sessionKey);
    if (!entry || event.seq === undefined) return; // live-only events (deltas, tools) are not replies
    const seq = event.seq;
    entry.chain = entry.chain.then(async () => {
      if (seq <= entry.lastSeq) return; // replayed twice around a reconnect
      if (REPLY_TYPES.has(event.type)) await this.deliver(this.replyOf(event, entry.peer, seq));
      entry.lastSeq = seq;
      this.writeState();
    });
  }

  private replyOf(event: SessionEventMessage, peer: string, seq: number): Reply {
    const data = event.data;
    return {
      channel: this.options.channel,
      peer,
      sessionKey: event.sessionKey,
      turnId: event.turnId,
      seq,
      type: event.type as ReplyType,
      ...(typeof data.result === 'string' ? { text: data.result } : {}),
      ...(typeof data.reason === 'string' ? { reason: data.reason } : {}),
      messageIds: Array.isArray(data.messageIds) ? data.messageIds.map(String) : [],
      ts: event.ts,
    };
  }

  /** Until it is delivered, or the link closes (then it is delivered again after a restart). */
  private async deliver(reply: Reply): Promise<void> {
    let delay = 500;
    for (;;) {
      try {
        await this.options.onReply(reply);
        return;
      } catch (error) {
        if (this.closed) throw error;
        this.log(`delivering the reply ${reply.sessionKey}#${reply.seq} failed (${(error as Error).message}); retrying in ${delay} ms`);
        await sleep(delay);
        delay = Math.min(delay * 2, 30_000);
      }
    }
  }

  private readState(): StateFile {
    const empty: StateFile = { version: 1, sessions: {} };
    if (!this.options.stateFile) return empty;
    try {
      const parsed = JSON.parse(readFileSync(this.options.stateFile, 'utf8')) as Partial<StateFile>;
      const sessions: StateFile['sessions'] = {};
      for (const [key, value] of Object.entries(parsed.sessions ?? {})) {
        if (typeof value?.peer === 'string' && Number.isInteger(value.lastSeq) && key === this.sessionKeyOf(value.peer)) sessions[key] = value;
      }
      return { version: 1, sessions };
    } catch {
      return empty;
    }
  }

  private writeState(): void {
    const file = this.options.stateFile;
    if (!file) return;
    const body: StateFile = {
      version: 1,
      sessions: Object.fromEntries([...this.sessions].map(([key, entry]) => [key, { peer: entry.peer, lastSeq: entry.lastSeq }])),
    };
    const tmp = `${file}.${process.pid}.tmp`;
    try {
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(tmp, JSON.stringify(body));
      renameSync(tmp, file);
    } catch (error) {
      this.log(`cannot write ${file}: ${(error as Error).message}`);
    }
  }
}

/** Settings every adapter takes from its environment (docs/channels.md). */
export function adapterEnvironment(env: NodeJS.ProcessEnv = process.env): {
  url: string;
  token: string | undefined;
  channel: string | undefined;
  agent: string;
  stateDir: string | undefined;
} {
  return {
    url: env.SWITCHYARD_URL ?? 'ws://127.0.0.1:8420/rpc',
    token: env.SWITCHYARD_TOKEN || undefined,
    channel: env.SWITCHYARD_CHANNEL || undefined,
    agent: env.SWITCHYARD_AGENT || 'main',
    stateDir: env.SWITCHYARD_CHANNEL_STATE || undefined,
  };
}
