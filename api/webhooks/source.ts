// A webhook source, compiled once from `webhooks.<name>`: its verifier, templates, filters,
// dedupe key and limits, with the defaults the schema leaves out filled in. Everything here
// is pure; the route (api/routes/hooks-source.ts) does the HTTP.
import { createHash } from 'node:crypto';
import { parseDuration } from '../../config/duration.js';
import type { Config, WebhookFilterRuleConfig, WebhookSourceConfig } from '../../config/schema.js';
import { parseSessionKey, sessionKeyOf } from '../../contracts/names.js';
import { TokenBucket } from './limits.js';
import {
  DEFAULT_TOLERANCE_MS,
  headerValue,
  verifyBearer,
  verifyGenericHmac,
  verifyGithub,
  verifySlack,
  verifyStandardWebhook,
  verifyStripe,
  type Headers,
  type SchemeInput,
  type VerifyResult,
} from './signatures.js';
import { compileTemplate, parsePath, resolvePath, stringify, type PathExpr, type Template, type TemplateContext } from './template.js';

export const DEFAULT_PROMPT = 'Webhook delivery from "{{source}}":\n\n{{body | json}}';
export const DEFAULT_TIMEOUT_MS = 120_000;
/** Longest prompt a template may render; longer ones are cut with a note. */
export const MAX_PROMPT_CHARS = 256 * 1024;
const MAX_SESSION_KEY = 512;
const MAX_IDEMPOTENCY_KEY = 512;
/** Headers that carry credentials: never visible to templates, filters or dedupe keys. */
const CREDENTIAL_HEADERS = ['authorization', 'proxy-authorization', 'cookie'];
const AGENT_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export type VerifyType = 'none' | 'bearer' | 'github' | 'stripe' | 'slack' | 'standard-webhooks' | 'hmac';

export type Ignored = { ignored: true; reason: string } | { ignored: false };

export type Mapping =
  | { ok: true; agentId: string; sessionKey: string; prompt: string }
  | { ok: false; field: 'agent' | 'session' | 'prompt'; code: 'mapping_failed' | 'unknown_agent'; message: string };

export interface CompiledSource {
  name: string;
  enabled: boolean;
  verifyType: VerifyType;
  bodyLimit: number;
  mode: 'async' | 'sync';
  timeoutMs: number;
  /** True when results are POSTed to `deliver.url`. */
  delivers: boolean;
  bucket: TokenBucket | undefined;
  verify(input: SchemeInput): VerifyResult;
  /** Request headers as templates see them: lower-cased, credentials removed. */
  visibleHeaders(headers: Headers): Record<string, string>;
  filter(context: TemplateContext): Ignored;
  dedupeKey(context: TemplateContext): string | undefined;
  map(context: TemplateContext, agentExists: (agentId: string) => boolean): Mapping;
}

// ---------------------------------------------------------------------------------------
// Verification

function buildVerifier(config: WebhookSourceConfig, gatewayToken: string | undefined): { type: VerifyType; hidden: string[]; verify: (input: SchemeInput) => VerifyResult } {
  const verify = config.verify;
  if (verify === undefined) {
    if (!gatewayToken) return { type: 'none', hidden: [], verify: () => ({ ok: true }) };
    return { type: 'bearer', hidden: [], verify: (input) => verifyBearer(input, [gatewayToken]) };
  }
  if (verify === 'none') return { type: 'none', hidden: [], verify: () => ({ ok: true }) };
  const secrets = [...(verify.secret === undefined ? [] : [verify.secret]), ...(verify.secrets ?? [])];
  const tolerance = verify.tolerance === undefined ? DEFAULT_TOLERANCE_MS : parseDuration(verify.tolerance);
  switch (verify.type) {
    case 'bearer': {
      const tokens = secrets.length > 0 ? secrets : gatewayToken ? [gatewayToken] : [];
      const header = (verify.header ?? 'authorization').toLowerCase();
      // No token at all is refused by the schema; fail closed if it happens anyway.
      return { type: 'bearer', hidden: [header], verify: (input) => (tokens.length === 0 ? { ok: false, reason: 'no token configured' } : verifyBearer(input, tokens, header)) };
    }
    case 'github':
      return { type: 'github', hidden: [], verify: (input) => verifyGithub(input, secrets) };
    case 'stripe':
      return { type: 'stripe', hidden: [], verify: (input) => verifyStripe(input, secrets, tolerance) };
    case 'slack':
      return { type: 'slack', hidden: [], verify: (input) => verifySlack(input, secrets, tolerance) };
    case 'standard-webhooks':
      return { type: 'standard-webhooks', hidden: [], verify: (input) => verifyStandardWebhook(input, secrets, tolerance) };
    case 'hmac': {
      const options = {
        header: verify.header!.toLowerCase(),
        algorithm: verify.algorithm ?? 'sha256',
        encoding: verify.encoding ?? 'hex',
        prefix: verify.prefix ?? '',
        ...(verify.timestampHeader ? { timestampHeader: verify.timestampHeader.toLowerCase() } : {}),
        signedPayload: verify.signedPayload ?? (verify.timestampHeader ? '{timestamp}.{body}' : '{body}'),
        toleranceMs: tolerance,
      };
      return { type: 'hmac', hidden: [], verify: (input) => verifyGenericHmac(input, secrets, options) };
    }
  }
}

// ---------------------------------------------------------------------------------------
// Filters

interface CompiledRule {
  label: string;
  value: (context: TemplateContext) => unknown;
  test: (value: unknown) => boolean;
}

/** Scalars compare as text, so `in: [1]` matches 1 and "1"; null matches null only. */
function same(value: unknown, expected: unknown): boolean {
  if (expected === null) return value === null;
  if (value === null || value === undefined || typeof value === 'object') return false;
  return String(value) === String(expected);
}

function compileRule(rule: WebhookFilterRuleConfig, label: string): CompiledRule {
  let value: (context: TemplateContext) => unknown;
  let field: string;
  if (rule.header !== undefined) {
    const name = rule.header.toLowerCase();
    value = (context) => (context.headers && Object.hasOwn(context.headers, name) ? context.headers[name] : undefined);
    field = `header ${name}`;
  } else {
    field = `body${rule.body!.startsWith('[') ? '' : '.'}${rule.body!}`;
    const path = parsePath(field);
    value = (context) => resolvePath(path, context);
  }
  let test: (value: unknown) => boolean;
  if (rule.exists !== undefined) test = (v) => (v !== undefined && v !== null) === rule.exists;
  else if (rule.equals !== undefined) test = (v) => same(v, rule.equals);
  else if (rule.in !== undefined) test = (v) => rule.in!.some((expected) => same(v, expected));
  else test = (v) => !rule.notIn!.some((expected) => same(v, expected));
  return { label: `${label} (${field})`, value, test };
}

/** Header-safe text: printable ASCII only. */
function headerSafe(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, 200);
}

// ---------------------------------------------------------------------------------------
// Dedupe keys

type KeySource = (context: TemplateContext) => unknown;

function keySource(spec: string): KeySource {
  if (spec.includes('{{')) {
    const template = compileTemplate(spec);
    return (context) => template.render(context, { maxLength: 4096 }).text;
  }
  const path: PathExpr = parsePath(spec.startsWith('headers.') ? `header.${spec.slice('headers.'.length)}` : spec);
  return (context) => resolvePath(path, context);
}

function defaultKeySource(type: VerifyType): KeySource | undefined {
  const header = (name: string): KeySource => (context) => context.headers?.[name];
  switch (type) {
    case 'github':
      return header('x-github-delivery');
    case 'stripe':
      return (context) => resolvePath({ kind: 'path', root: 'body', segments: ['id'] }, context);
    case 'standard-webhooks':
      return header('webhook-id');
    case 'slack':
      // Events API deliveries carry an event_id (retries repeat it); commands and actions do not.
      return (context) => {
        const eventId = resolvePath({ kind: 'path', root: 'body', segments: ['event_id'] }, context);
        if (typeof eventId === 'string' && eventId !== '') return eventId;
        const timestamp = context.headers?.['x-slack-request-timestamp'];
        const signature = context.headers?.['x-slack-signature'];
        return timestamp && signature ? `${timestamp}:${signature}` : undefined;
      };
    default:
      return undefined;
  }
}

/** A message idempotency key: `hook:<source>:<id>`, hashed when the id is long. */
export function idempotencyKeyFor(source: string, id: string): string {
  const key = `hook:${source}:${id}`;
  return key.length <= MAX_IDEMPOTENCY_KEY ? key : `hook:${source}:sha256:${createHash('sha256').update(id).digest('hex')}`;
}

/**
 * The message id of a deduplicated delivery: derived from session and key, so that copies
 * of one delivery racing in at once all get the id of the message that runs (the first to
 * reach the workflow), and a sync caller waits for the right turn whichever copy it sent.
 */
export function messageIdFor(sessionKey: string, idempotencyKey: string): string {
  const hex = createHash('sha256').update(`${sessionKey}\n${idempotencyKey}`).digest('hex');
  // UUID layout, version 8 (custom), RFC 9562 variant.
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

// ---------------------------------------------------------------------------------------
// The source

export function compileSource(name: string, source: WebhookSourceConfig, config: Config): CompiledSource {
  const verifier = buildVerifier(source, config.gateway.auth.token);
  const hidden = new Set([...CREDENTIAL_HEADERS, ...verifier.hidden]);
  const agentTemplate: Template | undefined = source.agent === undefined ? undefined : compileTemplate(source.agent);
  const sessionTemplate = compileTemplate(source.session ?? name);
  const promptTemplate = compileTemplate(source.prompt ?? DEFAULT_PROMPT);
  const when = (source.filters?.when ?? []).map((rule, index) => compileRule(rule, `filters.when[${index}]`));
  const ignore = (source.filters?.ignore ?? []).map((rule, index) => compileRule(rule, `filters.ignore[${index}]`));
  const dedupe: KeySource | undefined =
    source.dedupeKey === 'none' ? undefined : source.dedupeKey !== undefined ? keySource(source.dedupeKey) : defaultKeySource(verifier.type);
  const rate = source.rateLimit;

  return {
    name,
    enabled: source.enabled !== false,
    verifyType: verifier.type,
    bodyLimit: source.bodyLimit ?? config.gateway.bodyLimit,
    mode: source.mode ?? 'async',
    timeoutMs: source.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    delivers: source.deliver !== undefined,
    bucket: rate ? new TokenBucket(rate.requestsPerSecond, rate.burst ?? Math.max(1, Math.ceil(rate.requestsPerSecond))) : undefined,
    verify: verifier.verify,

    visibleHeaders(headers) {
      const out: Record<string, string> = Object.create(null) as Record<string, string>;
      for (const key of Object.keys(headers)) {
        const lower = key.toLowerCase();
        if (hidden.has(lower)) continue;
        const value = headerValue(headers, lower);
        if (value !== undefined) out[lower] = value;
      }
      return out;
    },

    filter(context) {
      for (const rule of when) {
        if (!rule.test(rule.value(context))) return { ignored: true, reason: headerSafe(`${rule.label} did not match`) };
      }
      for (const rule of ignore) {
        if (rule.test(rule.value(context))) return { ignored: true, reason: headerSafe(`${rule.label} matched`) };
      }
      return { ignored: false };
    },

    dedupeKey(context) {
      const fromSource = dedupe ? stringify(dedupe(context)).trim() : '';
      const id = fromSource !== '' ? fromSource : source.dedupeKey === 'none' ? '' : (context.headers?.['idempotency-key']?.trim() ?? '');
      return id === '' ? undefined : idempotencyKeyFor(name, id);
    },

    map(context, agentExists) {
      const fail = (field: 'agent' | 'session' | 'prompt', message: string, code: 'mapping_failed' | 'unknown_agent' = 'mapping_failed'): Mapping => ({
        ok: false,
        field,
        code,
        message,
      });
      let agentId = agentTemplate ? agentTemplate.render(context, { maxLength: 256 }).text.trim() : 'main';
      const session = sessionTemplate.render(context, { maxLength: MAX_SESSION_KEY + 1 }).text.trim();
      if (session === '') return fail('session', 'the session template rendered empty (use `| default: "..."`)');
      if (session.length > MAX_SESSION_KEY) return fail('session', `the session key is longer than ${MAX_SESSION_KEY} characters`);
      if (/[\u0000-\u001f\u007f]/.test(session)) return fail('session', 'the session key has control characters');
      let sessionKey: string;
      if (session.startsWith('agent:')) {
        const parsed = parseSessionKey(session);
        if (!parsed) return fail('session', 'expected agent:<agentId>:<scope>');
        if (agentTemplate && parsed.agentId !== agentId) return fail('session', `the session key's agent "${parsed.agentId}" is not the agent "${agentId}"`);
        agentId = parsed.agentId;
        sessionKey = session;
      } else {
        if (agentId === '') return fail('agent', 'the agent template rendered empty (use `| default: "main"`)');
        if (!AGENT_ID.test(agentId)) return fail('agent', 'the agent template rendered an invalid agent id', 'unknown_agent');
        sessionKey = sessionKeyOf(agentId, session);
      }
      if (!agentExists(agentId)) return fail('agent', `no agent "${agentId}" is configured`, 'unknown_agent');
      const rendered = promptTemplate.render(context, { maxLength: MAX_PROMPT_CHARS });
      const prompt = rendered.truncated ? `${rendered.text}\n\n[truncated: the rendered prompt exceeded ${MAX_PROMPT_CHARS} characters]` : rendered.text;
      if (prompt.trim() === '') return fail('prompt', 'the prompt template rendered empty');
      return { ok: true, agentId, sessionKey, prompt };
    },
  };
}

export function compileSources(config: Config): Map<string, CompiledSource> {
  const sources = new Map<string, CompiledSource>();
  for (const [name, source] of Object.entries(config.webhooks)) sources.set(name, compileSource(name, source, config));
  return sources;
}

// ---------------------------------------------------------------------------------------
// Bodies

export type ParsedBody = { ok: true; body: unknown } | { ok: false; message: string };

/** JSON (`application/json`, `*+json`), forms (as a map of fields) and anything else as text. */
export function parseBody(raw: Buffer, contentType: string | undefined): ParsedBody {
  if (raw.length === 0) return { ok: true, body: undefined };
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  const text = raw.toString('utf8');
  if (/^application\/(?:[\w.+-]+\+)?json$/.test(type)) {
    try {
      return { ok: true, body: JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text) };
    } catch (error) {
      return { ok: false, message: `body is not valid JSON: ${(error as Error).message}` };
    }
  }
  if (type === 'application/x-www-form-urlencoded') {
    const fields: Record<string, string> = Object.create(null) as Record<string, string>;
    for (const [key, value] of new URLSearchParams(text)) fields[key] = value;
    return { ok: true, body: fields };
  }
  return { ok: true, body: text };
}

/** The query string as a map of strings (repeated keys: the last). */
export function queryMap(query: unknown): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  if (query === null || typeof query !== 'object') return out;
  for (const [key, value] of Object.entries(query as Record<string, unknown>)) {
    const last = Array.isArray(value) ? value.at(-1) : value;
    if (typeof last === 'string') out[key] = last;
  }
  return out;
}
