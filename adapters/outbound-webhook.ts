// The outbound-webhook adapter: every reply of the agent on this channel is POSTed as JSON to
// a URL (signed with Standard Webhooks headers when a secret is given), retried with backoff
// until the receiver answers 2xx, and delivered again after a restart if it was not yet.
//
// Messages come in on a small HTTP listener of its own (loopback by default):
//   POST /messages { "peer": "alice", "text": "hi", "idempotencyKey"?: "..." } → 202
// so that any system that can POST can chat through it.
//
// Settings (flags, or the environment the channel's `env` gives it):
//   --deliver-url / OUTBOUND_WEBHOOK_URL      where replies go (required)
//   --secret      / OUTBOUND_WEBHOOK_SECRET   whsec_... to sign them (optional)
//   --listen      / OUTBOUND_WEBHOOK_LISTEN   host:port of the inbound listener (default 127.0.0.1:0)
//   --inbound-token / OUTBOUND_WEBHOOK_INBOUND_TOKEN  bearer token the inbound listener requires (optional)
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { tokensEqual, bearerOf } from '../api/auth.js';
import { signStandardWebhook } from '../api/webhooks/signatures.js';
import { exitWhenOrphaned } from '../supervisor/orphan-guard.js';
import { adapterEnvironment, GatewayLink, type Reply } from './gateway-link.js';

const DELIVERY_TIMEOUT_MS = 15_000;
const MAX_INBOUND_BYTES = 1_048_576;

const InboundMessage = z.strictObject({
  peer: z.string().min(1).max(200),
  text: z.string().min(1),
  idempotencyKey: z.string().min(1).max(512).optional(),
});

export interface OutboundWebhookOptions {
  url: string;
  token?: string;
  channel: string;
  agent: string;
  deliverUrl: string;
  secret?: string;
  listenHost: string;
  listenPort: number;
  inboundToken?: string;
  stateFile?: string;
  log?: (line: string) => void;
}

/** The body POSTed for a reply. Its webhook-id is stable across retries and restarts. */
export function replyPayload(reply: Reply): Record<string, unknown> {
  return { ...reply };
}

export function replyId(reply: Reply): string {
  return `msg_${createHash('sha256').update(`${reply.sessionKey}#${reply.seq}`).digest('hex').slice(0, 32)}`;
}

export async function postReply(reply: Reply, target: { url: string; secret?: string }): Promise<void> {
  const body = JSON.stringify(replyPayload(reply));
  const id = replyId(reply);
  const timestamp = Math.floor(Date.now() / 1000);
  const response = await fetch(target.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'user-agent': 'switchyard-outbound-webhook/1',
      'webhook-id': id,
      'webhook-timestamp': String(timestamp),
      ...(target.secret ? { 'webhook-signature': signStandardWebhook(target.secret, id, timestamp, body) } : {}),
    },
    body,
    redirect: 'manual',
    signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
  });
  await response.body?.cancel();
  if (response.status < 200 || response.status >= 300) throw new Error(`${target.url} answered ${response.status}`);
}

export async function runOutboundWebhook(options: OutboundWebhookOptions): Promise<{ address: AddressInfo; close(): Promise<void>; failed: Promise<Error> }> {
  const log = options.log ?? ((line: string) => process.stderr.write(`outbound-webhook: ${line}\n`));
  const link = new GatewayLink({
    url: options.url,
    ...(options.token ? { token: options.token } : {}),
    channel: options.channel,
    agent: options.agent,
    ...(options.stateFile ? { stateFile: options.stateFile } : {}),
    onReply: async (reply) => {
      await postReply(reply, { url: options.deliverUrl, ...(options.secret ? { secret: options.secret } : {}) });
      log(`delivered ${reply.type} of ${reply.sessionKey} (seq ${reply.seq}) to ${options.deliverUrl}`);
    },
    log,
  });
  await link.start();

  const server = http.createServer((request, response) => {
    const answer = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    if (request.method !== 'POST' || request.url !== '/messages') return answer(404, { error: 'POST /messages' });
    if (options.inboundToken) {
      const given = bearerOf(request.headers.authorization);
      if (!given || !tokensEqual(given, options.inboundToken)) return answer(401, { error: 'unauthorized' });
    }
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_INBOUND_BYTES) request.destroy();
      else chunks.push(chunk);
    });
    request.on('end', () => {
      let parsed: z.infer<typeof InboundMessage>;
      try {
        parsed = InboundMessage.parse(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch (error) {
        return answer(400, { error: `expected { peer, text, idempotencyKey? }: ${(error as Error).message}` });
      }
      link.send(parsed.peer, parsed.text, parsed.idempotencyKey).then(
        (accepted) => answer(202, { accepted: true, ...accepted }),
        (error: Error) => answer(503, { error: error.message }),
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.listenPort, options.listenHost, () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    address,
    failed: link.failed,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await link.close();
    },
  };
}

function hostPort(text: string): { host: string; port: number } {
  const match = /^(.*):(\d+)$/.exec(text);
  if (!match) throw new Error(`expected host:port, got ${JSON.stringify(text)}`);
  return { host: match[1]!.replace(/^\[|\]$/g, ''), port: Number(match[2]) };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      token: { type: 'string' },
      channel: { type: 'string' },
      agent: { type: 'string' },
      'deliver-url': { type: 'string' },
      secret: { type: 'string' },
      listen: { type: 'string' },
      'inbound-token': { type: 'string' },
      state: { type: 'string' },
    },
  });
  const env = adapterEnvironment();
  const deliverUrl = values['deliver-url'] ?? process.env.OUTBOUND_WEBHOOK_URL;
  if (!deliverUrl || !URL.canParse(deliverUrl)) {
    console.error('outbound-webhook: give the URL replies go to: --deliver-url <url> or OUTBOUND_WEBHOOK_URL');
    process.exit(78);
  }
  const { host, port } = hostPort(values.listen ?? process.env.OUTBOUND_WEBHOOK_LISTEN ?? '127.0.0.1:0');
  const secret = values.secret ?? process.env.OUTBOUND_WEBHOOK_SECRET;
  const inboundToken = values['inbound-token'] ?? process.env.OUTBOUND_WEBHOOK_INBOUND_TOKEN;
  const token = values.token ?? env.token;
  const channel = values.channel ?? env.channel ?? 'webhook';
  const stateFile = values.state ?? (env.stateDir ? path.join(env.stateDir, 'outbound-webhook.json') : undefined);
  let running: Awaited<ReturnType<typeof runOutboundWebhook>>;
  try {
    running = await runOutboundWebhook({
      url: values.url ?? env.url,
      ...(token ? { token } : {}),
      channel,
      agent: values.agent ?? env.agent,
      deliverUrl,
      ...(secret ? { secret } : {}),
      listenHost: host,
      listenPort: port,
      ...(inboundToken ? { inboundToken } : {}),
      ...(stateFile ? { stateFile } : {}),
    });
  } catch (error) {
    console.error(`outbound-webhook: ${(error as Error).message}`);
    process.exit(1);
  }
  const where = running.address.family === 'IPv6' ? `[${running.address.address}]` : running.address.address;
  console.log(`outbound-webhook: channel ${channel}: POST http://${where}:${running.address.port}/messages; replies go to ${deliverUrl}`);
  const stop = (code: number) => void running.close().finally(() => process.exit(code));
  void running.failed.then((error) => {
    console.error(`outbound-webhook: ${error.message}`);
    stop(1);
  });
  process.once('SIGTERM', () => stop(0));
  process.once('SIGINT', () => stop(0));
  exitWhenOrphaned(() => stop(0));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
