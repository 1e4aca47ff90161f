// The MCP server's line to the gateway: one RpcClient, opened on the first tool call and
// again after it closed, so that the server starts (and keeps answering) while the gateway
// is down or restarting. Every failure is an error of that call, never of the process.
import { RpcClient, RpcConnectError, RpcResponseError } from '../client/rpc-client.js';

export interface GatewayTarget {
  /** ws://host:port/rpc */
  url: string;
  token?: string | undefined;
}

/** Why a call did not get a result, in words an agent (or a person) can act on. */
export class GatewayCallError extends Error {
  constructor(
    message: string,
    /** The JSON-RPC error code when the gateway answered with one. */
    readonly code?: number,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = 'GatewayCallError';
  }
}

export interface GatewayConnectionOptions {
  /** Handshake timeout; default 10 s. */
  connectTimeoutMs?: number;
  /** Longest wait for an answer; default 60 s (a `sessions.send` answers once Temporal holds the message). */
  callTimeoutMs?: number;
}

export class GatewayConnection {
  private client: Promise<RpcClient> | undefined;

  constructor(
    readonly target: GatewayTarget,
    private readonly options: GatewayConnectionOptions = {},
  ) {}

  /** Calls a method by name; rejects with GatewayCallError. */
  async call(method: string, params: unknown): Promise<unknown> {
    const client = await this.open();
    let timer: NodeJS.Timeout | undefined;
    const timeoutMs = this.options.callTimeoutMs ?? 60_000;
    const timedOut = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new GatewayCallError(`the gateway did not answer ${method} within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([client.call(method, params), timedOut]);
    } catch (error) {
      if (error instanceof GatewayCallError) throw error;
      if (error instanceof RpcResponseError) throw new GatewayCallError(rpcErrorText(method, error), error.code, error.data);
      // The connection dropped mid-call: the next call opens a new one.
      this.client = undefined;
      throw new GatewayCallError(`${method}: the connection to the gateway at ${this.target.url} failed (${(error as Error).message}); the call may or may not have been applied`);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    const pending = this.client;
    this.client = undefined;
    const client = await pending?.catch(() => undefined);
    await client?.close().catch(() => undefined);
  }

  private open(): Promise<RpcClient> {
    if (this.client) return this.client.then((client) => (client.isOpen ? client : this.reopen()));
    return this.reopen();
  }

  private reopen(): Promise<RpcClient> {
    const { url, token } = this.target;
    const opening = RpcClient.connect(url, { ...(token ? { token } : {}), connectTimeoutMs: this.options.connectTimeoutMs ?? 10_000 }).catch((error: unknown) => {
      if (this.client === opening) this.client = undefined;
      const refused = error instanceof RpcConnectError && error.status === 401 ? ' (the token was refused: set SWITCHYARD_TOKEN or pass --token)' : '';
      throw new GatewayCallError(`cannot reach the Switchyard gateway at ${url}: ${(error as Error).message}${refused}`);
    });
    this.client = opening;
    const forget = () => {
      if (this.client === opening) this.client = undefined;
    };
    opening.then((client) => client.closed.then(forget), () => undefined);
    return opening;
  }
}

function rpcErrorText(method: string, error: RpcResponseError): string {
  const data = error.data === undefined ? '' : ` ${JSON.stringify(error.data)}`;
  return `${method} failed: ${error.message} (JSON-RPC error ${error.code})${data}`;
}
