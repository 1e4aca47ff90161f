// The env-var layer: `SWITCHYARD_<SECTION>__<KEY>[__<KEY>...]=<value>`.
//
// A double underscore separates path segments; each segment matches the schema's camelCase
// key case-insensitively, ignoring "_" and "-" (`SWITCHYARD_WORKER__MAX_CONCURRENT_TURNS`
// → worker.maxConcurrentTurns). Under a map of named things (agents, cron, ...) a new name
// is the lowercased segment; an existing name from a lower layer matches case-insensitively.
// Keys of free-form string maps (`env`) are kept verbatim; keys in untyped sections are camelCased. Values are YAML scalars or flow
// collections (`9000`, `true`, `[a, b]`), except where the schema wants a string, which
// gets the raw text. Variables without a `__` (SWITCHYARD_HOME, SWITCHYARD_TOKEN,
// SWITCHYARD_ENV, ...) are not config paths.
//
// This module also holds the small schema walk that env vars, flags, redaction and the
// loader share.
import YAML from 'yaml';
import { z } from 'zod';
import { ConfigError } from './errors.js';
import { formatPath } from './interpolate.js';
import { ConfigSchema } from './schema.js';

export const ENV_PREFIX = 'SWITCHYARD_';
export const ENV_SEPARATOR = '__';

// ---------------------------------------------------------------------------------------
// Schema walk

/** Strips defaults, optionality and pipes down to the schema that validates the value. */
export function unwrapSchema(schema: z.ZodType): z.ZodType {
  for (let current = schema; ; ) {
    const inner = unwrapSchemaOnce(current);
    if (inner === current) return current;
    current = inner;
  }
}

/** The schema of `schema[key]`, or undefined where the schema says nothing (free-form, unknown key). */
export function childSchema(schema: z.ZodType | undefined, key: string | number): z.ZodType | undefined {
  if (!schema) return undefined;
  const inner = unwrapSchema(schema);
  if (inner instanceof z.ZodObject) {
    return typeof key === 'string' && Object.hasOwn(inner.shape, key) ? (inner.shape[key] as z.ZodType) : undefined;
  }
  if (inner instanceof z.ZodRecord) return inner.valueType as z.ZodType;
  if (inner instanceof z.ZodArray) return inner.element as z.ZodType;
  // A union (`verify: none` or a mapping): the first option that knows the key.
  if (inner instanceof z.ZodUnion) {
    for (const option of inner.options as readonly z.ZodType[]) {
      const found = childSchema(option, key);
      if (found) return found;
    }
  }
  return undefined;
}

/** The schema at a path of the config, or undefined where the schema does not reach. */
export function schemaAtPath(path: readonly (string | number)[], root: z.ZodType = ConfigSchema): z.ZodType | undefined {
  let current: z.ZodType | undefined = root;
  for (const key of path) current = childSchema(current, key);
  return current;
}

/** True when the schema's value is a string (plain, enum of strings, duration...). */
export function acceptsString(schema: z.ZodType | undefined): boolean {
  if (!schema) return false;
  const inner = unwrapSchema(schema);
  if (inner instanceof z.ZodString) return true;
  if (inner instanceof z.ZodEnum) return inner.options.every((option) => typeof option === 'string');
  if (inner instanceof z.ZodLiteral) return [...inner.values].every((value) => typeof value === 'string');
  if (inner instanceof z.ZodUnion) return (inner.options as readonly z.ZodType[]).some((option) => acceptsString(option));
  return false;
}

/** True when the schema's value is a mapping (an object or a record). */
export function expectsMapping(schema: z.ZodType | undefined): boolean {
  if (!schema) return false;
  const inner = unwrapSchema(schema);
  return inner instanceof z.ZodObject || inner instanceof z.ZodRecord;
}

/** A record whose keys are unconstrained strings, such as `env`: keys are data, not names. */
export function isFreeFormMap(schema: z.ZodType | undefined): boolean {
  if (!schema) return false;
  const inner = unwrapSchema(schema);
  if (!(inner instanceof z.ZodRecord)) return false;
  const key = inner.keyType as unknown as z.ZodType;
  return key instanceof z.ZodString && (key._zod.def.checks ?? []).length === 0;
}

/**
 * A free-form map of data such as `env`, whose keys are taken as written. A map of
 * unknown values (an untyped section) is not: its keys are camelCase config keys.
 */
function keepsKeysVerbatim(schema: z.ZodType | undefined): boolean {
  if (!schema || !isFreeFormMap(schema)) return false;
  const value = unwrapSchema((unwrapSchema(schema) as z.ZodRecord).valueType as z.ZodType);
  return !(value instanceof z.ZodUnknown || value instanceof z.ZodAny);
}

/** True for a record of named things (`agents`, `cron`, ...), whose keys are identifiers. */
export function isNamedCollection(schema: z.ZodType | undefined): boolean {
  if (!schema) return false;
  return unwrapSchema(schema) instanceof z.ZodRecord && !isFreeFormMap(schema);
}

/** True when any wrapper of the schema carries `.meta({ secret: true })`. */
export function isSecretSchema(schema: z.ZodType | undefined): boolean {
  let current: z.ZodType | undefined = schema;
  while (current) {
    if (z.globalRegistry.get(current)?.secret === true) return true;
    const next: z.ZodType = unwrapSchemaOnce(current);
    if (next === current) return false;
    current = next;
  }
  return false;
}

/** One wrapper (default, optional, pipe, ...) off, or the schema itself when there is none. */
export function unwrapSchemaOnce(schema: z.ZodType): z.ZodType {
  if (
    schema instanceof z.ZodDefault ||
    schema instanceof z.ZodPrefault ||
    schema instanceof z.ZodOptional ||
    schema instanceof z.ZodNullable ||
    schema instanceof z.ZodReadonly ||
    schema instanceof z.ZodNonOptional ||
    schema instanceof z.ZodCatch
  ) {
    return schema.unwrap() as z.ZodType;
  }
  if (schema instanceof z.ZodPipe) return schema.in as z.ZodType;
  return schema;
}

// ---------------------------------------------------------------------------------------
// Path and value mapping, shared with the flag layer

const normalizeKey = (key: string): string => key.toLowerCase().replace(/[_-]/g, '');

/** `MAX_CONCURRENT_TURNS` → `maxConcurrentTurns`. */
export function camelCase(segment: string): string {
  return segment.toLowerCase().replace(/[_-]+([a-z0-9])/g, (_, char: string) => char.toUpperCase());
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export interface ResolvePathOptions {
  /** `env`: segments are SHOUTING_SNAKE_CASE; `flag`: segments are typed as the user meant them. */
  style: 'env' | 'flag';
  /** Trees (lower layers, the layer being built) whose existing keys a segment may match. */
  existing?: readonly unknown[];
}

/**
 * Maps user-typed path segments to the config's real keys, following the schema.
 * Returns the keys and the schema at the end of the path (undefined past the schema).
 */
export function resolveConfigPath(segments: readonly string[], options: ResolvePathOptions): { path: string[]; schema: z.ZodType | undefined } {
  let schema: z.ZodType | undefined = ConfigSchema;
  let nodes: unknown[] = [...(options.existing ?? [])];
  const path: string[] = [];
  for (const segment of segments) {
    const inner = schema ? unwrapSchema(schema) : undefined;
    let key: string | undefined;
    if (inner instanceof z.ZodObject) {
      key = Object.keys(inner.shape).find((candidate) => normalizeKey(candidate) === normalizeKey(segment));
    }
    if (key === undefined && !(inner instanceof z.ZodObject)) {
      const existingKeys = nodes.flatMap((node) => (isPlainObject(node) ? Object.keys(node) : []));
      key =
        existingKeys.find((candidate) => candidate === segment) ??
        (keepsKeysVerbatim(inner) ? undefined : existingKeys.find((candidate) => normalizeKey(candidate) === normalizeKey(segment)));
    }
    if (key === undefined) {
      if (options.style === 'flag' || keepsKeysVerbatim(inner)) key = segment;
      else if (isNamedCollection(inner)) key = segment.toLowerCase();
      else key = camelCase(segment);
    }
    path.push(key);
    schema = childSchema(schema, key);
    nodes = nodes.map((node) => (isPlainObject(node) ? node[key!] : undefined));
  }
  return { path, schema };
}

/** Parses text as a YAML scalar or flow collection; text that is not valid YAML stays text. */
export function parseYamlValue(text: string): unknown {
  try {
    return YAML.parse(text);
  } catch {
    return text;
  }
}

/** The value a string from the environment or the command line stands for at a schema position. */
export function coerceTextValue(text: string, schema: z.ZodType | undefined): unknown {
  return acceptsString(schema) ? text : parseYamlValue(text);
}

/** Sets `value` at `path` in `tree`, creating (or replacing non-mappings with) mappings on the way. */
export function setAtPath(tree: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = tree;
  path.forEach((key, index) => {
    if (index === path.length - 1) {
      node[key] = value;
      return;
    }
    const next = node[key];
    if (isPlainObject(next)) {
      node = next;
    } else {
      const created: Record<string, unknown> = {};
      node[key] = created;
      node = created;
    }
  });
}

// ---------------------------------------------------------------------------------------
// The layer

/** True for `SWITCHYARD_<SECTION>__<KEY>...`; false for single vars such as SWITCHYARD_HOME. */
export function isConfigEnvVar(name: string): boolean {
  return name.startsWith(ENV_PREFIX) && name.includes(ENV_SEPARATOR, ENV_PREFIX.length);
}

export interface EnvVarSetting {
  /** The variable, e.g. `SWITCHYARD_GATEWAY__PORT`. */
  name: string;
  /** The config path it sets, e.g. `['gateway', 'port']`. */
  path: string[];
  value: unknown;
}

/** The config path an env var name stands for, with no reference to other layers. */
export function envVarPath(name: string, existing: readonly unknown[] = []): { path: string[]; schema: z.ZodType | undefined } {
  const segments = name.slice(ENV_PREFIX.length).split(ENV_SEPARATOR);
  if (segments.some((segment) => segment === '')) {
    throw new ConfigError({ source: name, message: `empty path segment: expected SWITCHYARD_<SECTION>__<KEY>[__<KEY>...]` });
  }
  return resolveConfigPath(segments, { style: 'env', existing });
}

/**
 * The env-var layer: its tree and the variables that built it (for origins and errors).
 * `existing` is the merged tree of the lower layers; names found there are matched
 * case-insensitively. More specific variables win over less specific ones.
 */
export function envVarLayer(env: Readonly<Record<string, string | undefined>>, existing?: unknown): { tree: Record<string, unknown>; settings: EnvVarSetting[] } {
  const names = Object.keys(env)
    .filter((name) => isConfigEnvVar(name) && env[name] !== undefined)
    .sort((a, b) => a.split(ENV_SEPARATOR).length - b.split(ENV_SEPARATOR).length || a.localeCompare(b));
  const tree: Record<string, unknown> = {};
  const settings: EnvVarSetting[] = [];
  for (const name of names) {
    const { path, schema } = envVarPath(name, [existing, tree]);
    const value = coerceTextValue(env[name]!, schema);
    setAtPath(tree, path, value);
    settings.push({ name, path, value });
  }
  return { tree, settings };
}

/** The env var that sets a config path, for docs and messages: `gateway.auth.token` → SWITCHYARD_GATEWAY__AUTH__TOKEN. */
export function envVarName(path: readonly string[]): string {
  return (
    ENV_PREFIX +
    path
      .map((segment) =>
        segment
          .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
          .replace(/[^A-Za-z0-9<>]+/g, '_')
          .toUpperCase(),
      )
      .join(ENV_SEPARATOR)
  );
}

export { formatPath };
