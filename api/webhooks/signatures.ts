// Signature schemes of webhook senders, on the exact bytes received. Pure functions: no
// config, no HTTP; the route builds a verifier from a source's `verify` settings.
//
// Every comparison is constant-time over equal-length buffers (crypto.timingSafeEqual),
// and every candidate signature is checked against every secret without stopping early,
// so the time taken says nothing about which secret or signature came close.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export type HmacAlgorithm = 'sha1' | 'sha256' | 'sha512';
export type Headers = Record<string, string | string[] | undefined>;

export type VerifyResult = { ok: true } | { ok: false; reason: string };

const DIGEST_BYTES: Record<HmacAlgorithm, number> = { sha1: 20, sha256: 32, sha512: 64 };
export const DEFAULT_TOLERANCE_MS = 5 * 60 * 1000;

const ok: VerifyResult = { ok: true };
const fail = (reason: string): VerifyResult => ({ ok: false, reason });

/** One header's value; repeated headers are joined as HTTP says they may be. */
export function headerValue(headers: Headers, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  if (Array.isArray(value)) return value.join(', ');
  return value;
}

export function hmac(algorithm: HmacAlgorithm, key: string | Buffer, ...parts: (string | Buffer)[]): Buffer {
  const mac = createHmac(algorithm, key);
  for (const part of parts) mac.update(part);
  return mac.digest();
}

/** Decodes hex strictly (Buffer.from stops silently at the first bad character). */
export function decodeHex(text: string): Buffer | undefined {
  return /^(?:[0-9a-fA-F]{2})+$/.test(text) ? Buffer.from(text, 'hex') : undefined;
}

/** Decodes standard or URL-safe base64 strictly, padding optional. */
export function decodeBase64(text: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(text) || text.replace(/=+$/, '').length % 4 === 1) return undefined;
  return Buffer.from(text, text.includes('-') || text.includes('_') ? 'base64url' : 'base64');
}

/** True when any candidate equals any expected digest. Constant-time per pair; no early exit. */
export function anyEqual(candidates: readonly (Buffer | undefined)[], expected: readonly Buffer[]): boolean {
  let matched = false;
  for (const candidate of candidates) {
    for (const digest of expected) {
      const same = candidate !== undefined && candidate.length === digest.length && timingSafeEqual(candidate, digest);
      matched = same || matched;
    }
  }
  return matched;
}

/** Hashing both sides first makes the comparison constant-time whatever the lengths. */
export function tokenMatches(given: string, tokens: readonly string[]): boolean {
  const digest = createHash('sha256').update(given).digest();
  let matched = false;
  for (const token of tokens) {
    const same = timingSafeEqual(digest, createHash('sha256').update(token).digest()) && given.length === token.length;
    matched = same || matched;
  }
  return matched;
}

/** Unix seconds (or milliseconds, when the number has 13 digits or more) → milliseconds. */
export function parseTimestamp(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d{1,16}$/.test(text.trim())) return undefined;
  const value = Number(text.trim());
  return value >= 1e12 ? value : value * 1000;
}

function checkTolerance(timestampMs: number, now: number, toleranceMs: number): VerifyResult {
  return Math.abs(now - timestampMs) <= toleranceMs ? ok : fail('timestamp outside the tolerance (a replay, or a clock far off)');
}

// ---------------------------------------------------------------------------------------
// Schemes

export interface SchemeInput {
  headers: Headers;
  body: Buffer;
  /** Milliseconds since the epoch. */
  now: number;
}

/** `Authorization: Bearer <token>`, or the token as the whole value of another header. */
export function verifyBearer(input: SchemeInput, tokens: readonly string[], header = 'authorization'): VerifyResult {
  const raw = headerValue(input.headers, header);
  if (raw === undefined || raw === '') return fail(`missing ${header} header`);
  const given = header.toLowerCase() === 'authorization' ? /^Bearer\s+(\S+)\s*$/i.exec(raw)?.[1] : raw.trim();
  if (!given) return fail('expected Authorization: Bearer <token>');
  return tokenMatches(given, tokens) ? ok : fail('invalid token');
}

/** GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`. */
export function verifyGithub(input: SchemeInput, secrets: readonly string[]): VerifyResult {
  const header = headerValue(input.headers, 'x-hub-signature-256');
  if (!header) return fail('missing X-Hub-Signature-256 header');
  if (!header.startsWith('sha256=')) return fail('X-Hub-Signature-256 must start with sha256=');
  const given = decodeHex(header.slice('sha256='.length));
  const expected = secrets.map((secret) => hmac('sha256', secret, input.body));
  return anyEqual([given], expected) ? ok : fail('signature mismatch');
}

/** Stripe: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>...]`, HMAC-SHA256 of `<t>.<body>`. */
export function verifyStripe(input: SchemeInput, secrets: readonly string[], toleranceMs = DEFAULT_TOLERANCE_MS): VerifyResult {
  const header = headerValue(input.headers, 'stripe-signature');
  if (!header) return fail('missing Stripe-Signature header');
  let timestamp: string | undefined;
  const signatures: (Buffer | undefined)[] = [];
  for (const item of header.split(',')) {
    const eq = item.indexOf('=');
    if (eq < 0) continue;
    const key = item.slice(0, eq).trim();
    const value = item.slice(eq + 1).trim();
    if (key === 't') timestamp ??= value;
    else if (key === 'v1' && signatures.length < 16) signatures.push(decodeHex(value));
  }
  const timestampMs = parseTimestamp(timestamp);
  if (timestampMs === undefined || timestamp === undefined) return fail('Stripe-Signature has no valid t= timestamp');
  if (signatures.length === 0) return fail('Stripe-Signature has no v1= signature');
  const expected = secrets.map((secret) => hmac('sha256', secret, `${timestamp}.`, input.body));
  if (!anyEqual(signatures, expected)) return fail('signature mismatch');
  return checkTolerance(timestampMs, input.now, toleranceMs);
}

/** Slack: `X-Slack-Signature: v0=<hex>`, HMAC-SHA256 of `v0:<X-Slack-Request-Timestamp>:<body>`. */
export function verifySlack(input: SchemeInput, secrets: readonly string[], toleranceMs = DEFAULT_TOLERANCE_MS): VerifyResult {
  const header = headerValue(input.headers, 'x-slack-signature');
  const timestamp = headerValue(input.headers, 'x-slack-request-timestamp');
  if (!header) return fail('missing X-Slack-Signature header');
  const timestampMs = parseTimestamp(timestamp);
  if (timestampMs === undefined || timestamp === undefined) return fail('missing or invalid X-Slack-Request-Timestamp header');
  if (!header.startsWith('v0=')) return fail('X-Slack-Signature must start with v0=');
  const given = decodeHex(header.slice(3));
  const expected = secrets.map((secret) => hmac('sha256', secret, `v0:${timestamp}:`, input.body));
  if (!anyEqual([given], expected)) return fail('signature mismatch');
  return checkTolerance(timestampMs, input.now, toleranceMs);
}

/** A Standard Webhooks secret: `whsec_` then base64 (the prefix is optional), as bytes. */
export function standardWebhooksKey(secret: string): Buffer | undefined {
  const key = decodeBase64(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret);
  return key && key.length > 0 ? key : undefined;
}

/** The `webhook-signature` value for one message: `v1,<base64 HMAC-SHA256 of id.timestamp.body>`. */
export function signStandardWebhook(secret: string, id: string, timestampSeconds: number, body: string | Buffer): string {
  const key = standardWebhooksKey(secret);
  if (!key) throw new Error('a Standard Webhooks secret must be base64, optionally prefixed with whsec_');
  return `v1,${hmac('sha256', key, `${id}.${timestampSeconds}.`, body).toString('base64')}`;
}

/**
 * Standard Webhooks (https://www.standardwebhooks.com): `webhook-id`, `webhook-timestamp`
 * (unix seconds), `webhook-signature` (space-separated `v1,<base64>` entries; other
 * versions are ignored), HMAC-SHA256 of `<id>.<timestamp>.<body>` keyed with the secret's bytes.
 */
export function verifyStandardWebhook(input: SchemeInput, secrets: readonly string[], toleranceMs = DEFAULT_TOLERANCE_MS): VerifyResult {
  const id = headerValue(input.headers, 'webhook-id');
  const timestamp = headerValue(input.headers, 'webhook-timestamp');
  const header = headerValue(input.headers, 'webhook-signature');
  if (!id) return fail('missing webhook-id header');
  if (!header) return fail('missing webhook-signature header');
  const timestampMs = parseTimestamp(timestamp);
  if (timestampMs === undefined || timestamp === undefined) return fail('missing or invalid webhook-timestamp header');
  const signatures = header
    .split(' ')
    .filter((entry) => entry.startsWith('v1,'))
    .slice(0, 16)
    .map((entry) => decodeBase64(entry.slice(3)));
  if (signatures.length === 0) return fail('webhook-signature has no v1 signature');
  const keys = secrets.map(standardWebhooksKey).filter((key): key is Buffer => key !== undefined);
  const expected = keys.map((key) => hmac('sha256', key, `${id}.${timestamp}.`, input.body));
  if (!anyEqual(signatures, expected)) return fail('signature mismatch');
  return checkTolerance(timestampMs, input.now, toleranceMs);
}

export interface GenericHmacOptions {
  header: string;
  algorithm: HmacAlgorithm;
  encoding: 'hex' | 'base64';
  /** Text before the signature in the header, e.g. `sha256=`. */
  prefix: string;
  timestampHeader?: string;
  /** What is signed: `{body}`, `{timestamp}` placeholders, e.g. `{timestamp}.{body}`. */
  signedPayload: string;
  toleranceMs: number;
}

/** Any HMAC over the body (and, optionally, a timestamp header) sent in one header. */
export function verifyGenericHmac(input: SchemeInput, secrets: readonly string[], options: GenericHmacOptions): VerifyResult {
  const header = headerValue(input.headers, options.header);
  if (!header) return fail(`missing ${options.header} header`);
  const value = header.trim();
  if (!value.startsWith(options.prefix)) return fail(`${options.header} must start with ${options.prefix}`);
  const encoded = value.slice(options.prefix.length);
  const given = options.encoding === 'hex' ? decodeHex(encoded) : decodeBase64(encoded);
  if (given === undefined || given.length !== DIGEST_BYTES[options.algorithm]) return fail('signature mismatch');

  let timestamp: string | undefined;
  let timestampMs: number | undefined;
  if (options.timestampHeader) {
    timestamp = headerValue(input.headers, options.timestampHeader)?.trim();
    timestampMs = parseTimestamp(timestamp);
    if (timestampMs === undefined) return fail(`missing or invalid ${options.timestampHeader} header`);
  }
  const bodyAt = options.signedPayload.indexOf('{body}');
  const fill = (text: string) => text.split('{timestamp}').join(timestamp ?? '');
  const before = fill(options.signedPayload.slice(0, bodyAt));
  const after = fill(options.signedPayload.slice(bodyAt + '{body}'.length));
  const expected = secrets.map((secret) => hmac(options.algorithm, secret, before, input.body, after));
  if (!anyEqual([given], expected)) return fail('signature mismatch');
  return timestampMs === undefined ? ok : checkTolerance(timestampMs, input.now, options.toleranceMs);
}
