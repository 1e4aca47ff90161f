// Secrets never leave the process in clear: not in `switchyard config`, `config.get`,
// `--explain`, logs or error messages. A value is secret when its schema field is marked
// `.meta({ secret: true })`, or when it sits in free-form territory (a string map such as
// `agents.*.env`, or an untyped section such as `webhooks.*`) under a key that looks secret
// (token, secret, password, key, credential, auth, ...: `ANTHROPIC_API_KEY`).
import { z } from 'zod';
import { childSchema, isFreeFormMap, isSecretSchema, unwrapSchema } from './env-vars.js';
import { ConfigSchema } from './schema.js';

export const REDACTED = '[redacted]';

const SECRET_KEY = /token|secret|passw(?:or)?d|passphrase|key|credential|auth|cookie|signature|private/i;
/** Names with "key" in them that hold no secret: how to find a key, not the key. */
const NOT_SECRET_KEY = /^(?:dedupe|session|idempotency|partition|routing|sort|group|cache)[_-]?key$/i;

/** True for a map key whose value should be treated as a secret (`ANTHROPIC_API_KEY`, `password`, `auth`). */
export function looksSecretKey(key: string): boolean {
  return SECRET_KEY.test(key) && !NOT_SECRET_KEY.test(key);
}

type Segment = string | number;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The schema says nothing about what lies below: keys are judged by their names. */
function isUntyped(schema: z.ZodType | undefined): boolean {
  if (!schema) return true;
  const inner = unwrapSchema(schema);
  return inner instanceof z.ZodUnknown || inner instanceof z.ZodAny;
}

/** Whether the key `key` under a node with schema `parent` holds a secret by name. */
function secretByName(parent: z.ZodType | undefined, key: Segment): boolean {
  return typeof key === 'string' && (isUntyped(parent) || isFreeFormMap(parent)) && looksSecretKey(key);
}

/** True when the value at `path` of a config is secret (by schema mark or by key name). */
export function isSecretPath(path: readonly Segment[], root: z.ZodType = ConfigSchema): boolean {
  let schema: z.ZodType | undefined = root;
  for (const key of path) {
    if (isSecretSchema(schema)) return true;
    if (secretByName(schema, key)) return true;
    schema = isUntyped(schema) ? undefined : childSchema(schema, key);
  }
  return isSecretSchema(schema);
}

/** Walks `value` along `schema`, calling `onSecret` for every secret value; returns the redacted copy. */
function walk(value: unknown, schema: z.ZodType | undefined, path: Segment[], onSecret: (value: unknown, path: Segment[]) => void): unknown {
  if (value === undefined) return value;
  if (schema && isSecretSchema(schema)) return redactValue(value, path, onSecret);
  const untyped = isUntyped(schema);
  if (Array.isArray(value)) {
    return value.map((item, index) => walk(item, untyped ? undefined : childSchema(schema, index), [...path, index], onSecret));
  }
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(value)) {
      out[key] = secretByName(schema, key)
        ? redactValue(child, [...path, key], onSecret)
        : walk(child, untyped ? undefined : childSchema(schema, key), [...path, key], onSecret);
    }
    return out;
  }
  return value;
}

function redactValue(value: unknown, path: Segment[], onSecret: (value: unknown, path: Segment[]) => void): unknown {
  // Nothing to hide in an absent or empty value, and showing it helps: "the token is empty".
  if (value === undefined || value === null || value === '') return value;
  onSecret(value, path);
  return REDACTED;
}

/** A deep copy of `config` with every secret replaced by "[redacted]". Works on partial or raw configs too. */
export function redactConfig(config: unknown, root: z.ZodType = ConfigSchema): unknown {
  return walk(config, root, [], () => {});
}

function collectStrings(value: unknown, into: Set<string>): void {
  if (typeof value === 'string') {
    if (value !== '') into.add(value);
  } else if (typeof value === 'number' || typeof value === 'bigint') {
    into.add(String(value));
  } else if (Array.isArray(value)) {
    for (const item of value) collectStrings(item, into);
  } else if (isPlainObject(value)) {
    for (const item of Object.values(value)) collectStrings(item, into);
  }
}

/** Every secret value in the config (non-empty, unique, longest first), for scrubbing logs and output. */
export function secretValues(config: unknown, root: z.ZodType = ConfigSchema): string[] {
  const values = new Set<string>();
  walk(config, root, [], (value) => collectStrings(value, values));
  return [...values].sort((a, b) => b.length - a.length || a.localeCompare(b));
}

/** The paths of every secret in the config, e.g. `['gateway', 'auth', 'token']`. */
export function secretPaths(config: unknown, root: z.ZodType = ConfigSchema): Segment[][] {
  const paths: Segment[][] = [];
  walk(config, root, [], (_value, path) => paths.push(path));
  return paths;
}

/** A path in pino's `redact.paths` syntax: `agents.main.env.API_KEY`, `webhooks["my-hook"].secret`. */
function pinoPath(path: readonly Segment[], prefix?: string): string {
  let out = prefix ?? '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/**
 * pino `redact` options for loggers that may log the config (under each of `prefixes`,
 * dotted pino paths such as `config`) or request headers:
 * `pino({ redact: pinoRedactOptions(config) })`. Secret values that turn up elsewhere in
 * log lines need `secretValues()`.
 */
export function pinoRedactOptions(config: unknown, prefixes: readonly string[] = ['config']): { paths: string[]; censor: string } {
  const paths = new Set<string>(['req.headers.authorization', 'req.headers.cookie']);
  for (const path of secretPaths(config)) {
    if (prefixes.length === 0) paths.add(pinoPath(path));
    for (const prefix of prefixes) paths.add(pinoPath(path, prefix));
  }
  return { paths: [...paths], censor: REDACTED };
}
