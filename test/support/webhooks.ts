// Webhook senders for tests: each signs a body the way its provider documents it, with
// node:crypto directly (never with the gateway's own code), and posts the exact bytes.
import { createHmac } from 'node:crypto';
import http from 'node:http';

export interface Signed {
  headers: Record<string, string>;
}

export interface SignOptions {
  secret: string;
  /** Unix seconds; default now. */
  timestamp?: number;
  /** Delivery id where the scheme has one. */
  id?: string;
}

const seconds = (options: SignOptions) => options.timestamp ?? Math.floor(Date.now() / 1000);

export const sign = {
  github(body: string, options: SignOptions): Signed {
    const signature = createHmac('sha256', options.secret).update(body).digest('hex');
    return {
      headers: {
        'x-hub-signature-256': `sha256=${signature}`,
        'x-github-delivery': options.id ?? crypto.randomUUID(),
        'content-type': 'application/json',
      },
    };
  },
  stripe(body: string, options: SignOptions): Signed {
    const t = seconds(options);
    const signature = createHmac('sha256', options.secret).update(`${t}.${body}`).digest('hex');
    return { headers: { 'stripe-signature': `t=${t},v1=${signature}`, 'content-type': 'application/json; charset=utf-8' } };
  },
  slack(body: string, options: SignOptions, contentType = 'application/json'): Signed {
    const t = seconds(options);
    const signature = createHmac('sha256', options.secret).update(`v0:${t}:${body}`).digest('hex');
    return { headers: { 'x-slack-signature': `v0=${signature}`, 'x-slack-request-timestamp': String(t), 'content-type': contentType } };
  },
  standardWebhooks(body: string, options: SignOptions): Signed {
    const t = seconds(options);
    const id = options.id ?? `msg_${crypto.randomUUID().replace(/-/g, '')}`;
    const key = Buffer.from(options.secret.replace(/^whsec_/, ''), 'base64');
    const signature = createHmac('sha256', key).update(`${id}.${t}.${body}`).digest('base64');
    return { headers: { 'webhook-id': id, 'webhook-timestamp': String(t), 'webhook-signature': `v1,${signature}`, 'content-type': 'application/json' } };
  },
  /** The generic scheme as the tests configure it: X-Signature: sha512=<base64>, over `<X-Timestamp>.<body>`. */
  genericSha512(body: string, options: SignOptions): Signed {
    const t = seconds(options);
    const signature = createHmac('sha512', options.secret).update(`${t}.${body}`).digest('base64');
    return { headers: { 'x-signature': `sha512=${signature}`, 'x-timestamp': String(t), 'content-type': 'application/json', 'x-request-id-ext': options.id ?? crypto.randomUUID() } };
  },
};

export { postRaw } from './gateway.js';

export const STANDARD_SECRET = `whsec_${Buffer.from('switchyard test key, 32 bytes!!').toString('base64')}`;

export interface ReceivedDelivery {
  headers: http.IncomingHttpHeaders;
  body: string;
  at: number;
}

/** An HTTP receiver of result deliveries on a fixed port; it can be started after the sender tried. */
export class DeliveryReceiver {
  readonly received: ReceivedDelivery[] = [];
  private server: http.Server | undefined;

  constructor(readonly port: number, private readonly status: (delivery: ReceivedDelivery) => number = () => 204) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}/results`;
  }

  /** Listens on the port; does nothing when already listening. */
  async start(): Promise<void> {
    if (this.server) return;
    const server = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const delivery = { headers: request.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() };
        this.received.push(delivery);
        response.writeHead(this.status(delivery)).end();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
  }

  async close(): Promise<void> {
    if (!this.server) return;
    const server = this.server;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
