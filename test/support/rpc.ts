// Helpers for tests of the WebSocket JSON-RPC API: a raw connection that records every frame
// it receives, and a way to tell "no answer" from "an answer" without timing.
import { once } from 'node:events';
import net from 'node:net';
import WebSocket from 'ws';

/** A connection that sends raw text and collects every frame the server sends, parsed. */
export class RawRpc {
  readonly received: unknown[] = [];
  private waiters: (() => void)[] = [];
  private sentinel = 0;
  closeCode: number | undefined;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      let value: unknown;
      try {
        value = JSON.parse(data.toString());
      } catch {
        value = { unparseable: data.toString() };
      }
      this.received.push(value);
      this.wake();
    });
    ws.on('close', (code) => {
      this.closeCode = code;
      this.wake();
    });
    ws.on('error', () => undefined);
  }

  static async open(url: string, options: WebSocket.ClientOptions & { protocols?: string[] } = {}): Promise<RawRpc> {
    const ws = new WebSocket(url, options.protocols ?? [], options);
    await once(ws, 'open');
    return new RawRpc(ws);
  }

  /** A string goes as a text frame, a Buffer as a binary frame, anything else as JSON text. */
  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' || Buffer.isBuffer(frame) ? frame : JSON.stringify(frame));
  }

  /** Waits until `check` holds over what was received (or the connection closed). */
  async until(check: () => boolean): Promise<void> {
    while (!check() && this.closeCode === undefined) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  /**
   * Sends `frame`, then a `gateway.health` request as a sentinel, and returns every frame
   * received before the sentinel's answer: what `frame` was answered with ([] for none).
   * The sentinel is a cheap method, so an answer to `frame` is never overtaken by it.
   */
  async exchange(frame: unknown): Promise<unknown[]> {
    const id = `sentinel-${++this.sentinel}`;
    const start = this.received.length;
    this.send(frame);
    this.send({ jsonrpc: '2.0', method: 'gateway.health', id });
    const isSentinel = (value: unknown) => (value as { id?: unknown })?.id === id && !Array.isArray(value);
    await this.until(() => this.received.slice(start).some(isSentinel));
    if (this.closeCode !== undefined && !this.received.slice(start).some(isSentinel)) throw new Error(`connection closed (${this.closeCode})`);
    return this.received.slice(start).filter((value) => !isSentinel(value));
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    const closed = once(this.ws, 'close');
    this.ws.close();
    await closed;
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}

/**
 * An upgrade request on a bare TCP socket: everything the server answered, as text, until it
 * closed the socket (or sent a 101, after which nothing more is read).
 */
export async function rawUpgrade(url: string, headers: Record<string, string> = {}): Promise<{ status: number; head: string; body: string; text: string }> {
  const { hostname, port, pathname } = new URL(url);
  const socket = net.connect(Number(port), hostname);
  await once(socket, 'connect');
  const lines = [
    `GET ${pathname} HTTP/1.1`,
    `Host: ${hostname}:${port}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
    'Sec-WebSocket-Version: 13',
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  socket.write(`${lines.join('\r\n')}\r\n\r\n`);
  let text = '';
  socket.setEncoding('utf8');
  await new Promise<void>((resolve) => {
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (text.startsWith('HTTP/1.1 101')) {
        socket.destroy();
        resolve();
      }
    });
    socket.on('close', () => resolve());
    socket.on('error', () => resolve());
  });
  const [head = '', body = ''] = text.split('\r\n\r\n');
  return { status: Number(/^HTTP\/1\.1 (\d+)/.exec(text)?.[1] ?? 0), head, body, text };
}

/** The shape every JSON-RPC 2.0 response must have, and nothing else. */
export function isSpecResponse(value: unknown): boolean {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const response = value as Record<string, unknown>;
  const keys = Object.keys(response).sort();
  if (response.jsonrpc !== '2.0') return false;
  const id = response.id;
  if (!(id === null || typeof id === 'string' || typeof id === 'number')) return false;
  if (keys.join() === 'id,jsonrpc,result') return true;
  if (keys.join() !== 'error,id,jsonrpc') return false;
  const error = response.error as Record<string, unknown>;
  if (error === null || typeof error !== 'object') return false;
  const errorKeys = Object.keys(error).filter((key) => key !== 'data');
  return Number.isInteger(error.code) && typeof error.message === 'string' && errorKeys.sort().join() === 'code,message';
}
