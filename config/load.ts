// Loads the layered config. Layers, lowest first:
//   default      built-in defaults from the schema
//   user         $SWITCHYARD_HOME/config.yaml
//   project      ./switchyard.yaml
//   environment  ./switchyard.<env>.yaml (env from SWITCHYARD_ENV, else NODE_ENV)
//   env          SWITCHYARD_<SECTION>__<KEY>... variables (and SWITCHYARD_TOKEN for gateway.auth.token)
//   flag         command-line flags
// Objects merge deeply; arrays and scalars replace. `${VAR}` interpolation applies to the
// file layers. The result is validated by the schema; anything wrong becomes one
// ConfigError naming the file / env var / flag, the dotted path and what was expected.
import fs from 'node:fs';
import path from 'node:path';
import YAML, { LineCounter } from 'yaml';
import type { z } from 'zod';
import { ConfigError, type ConfigIssue } from './errors.js';
import {
  acceptsString,
  coerceTextValue,
  envVarLayer,
  expectsMapping,
  parseYamlValue,
  resolveConfigPath,
  schemaAtPath,
  setAtPath,
  unwrapSchema,
} from './env-vars.js';
import { formatPath, interpolate, type PathSegment } from './interpolate.js';
import { userConfigFile } from './paths.js';
import { isSecretPath } from './redact.js';
import { ConfigSchema, type Config } from './schema.js';

export type ConfigLayer = 'default' | 'user' | 'project' | 'environment' | 'env' | 'flag';

/** The layers, lowest precedence first. */
export const CONFIG_LAYERS: readonly ConfigLayer[] = ['default', 'user', 'project', 'environment', 'env', 'flag'];

export interface Origin {
  layer: ConfigLayer;
  /** The file path, the env var name, the flag (`--port`), or "built-in" for defaults. */
  source: string;
}

export const DEFAULT_ORIGIN: Origin = Object.freeze({ layer: 'default', source: 'built-in' });

export interface LoadedConfig {
  config: Config;
  /** Every leaf of `config` (dotted path, as `formatPath` writes it) → the layer that set it. */
  origins: Map<string, Origin>;
  /** The config files that were read, lowest layer first. */
  files: string[];
}

export interface LoadConfigOptions {
  /** Directory of `switchyard.yaml` and `switchyard.<env>.yaml`; default process.cwd(). */
  cwd?: string;
  /** Environment for SWITCHYARD_* variables, `${VAR}` interpolation and SWITCHYARD_HOME; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** The flag layer: dotted path (`gateway.port`) → value. String values are parsed as YAML where the schema wants a non-string. */
  flags?: Record<string, unknown>;
  /** How to name each flag in origins and errors (`gateway.port` → `--port`); default `--set <path>`. */
  flagSources?: Record<string, string>;
}

export interface ConfigFileCandidate {
  layer: 'user' | 'project' | 'environment';
  file: string;
}

const FILE_ENV_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** The config files loadConfig looks at, whether or not they exist, lowest layer first. */
export function configFileCandidates(options: Pick<LoadConfigOptions, 'cwd' | 'env'> = {}): ConfigFileCandidate[] {
  const env = options.env ?? process.env;
  const cwd = path.resolve(options.cwd ?? process.cwd());
  const candidates: ConfigFileCandidate[] = [
    { layer: 'user', file: userConfigFile(env) },
    { layer: 'project', file: path.join(cwd, 'switchyard.yaml') },
  ];
  const envName = configEnvName(env);
  if (envName) candidates.push({ layer: 'environment', file: path.join(cwd, `switchyard.${envName.name}.yaml`) });
  return candidates;
}

/** The environment name that picks `switchyard.<env>.yaml`: SWITCHYARD_ENV, else NODE_ENV. */
export function configEnvName(env: NodeJS.ProcessEnv): { name: string; variable: string } | undefined {
  const variable = env.SWITCHYARD_ENV ? 'SWITCHYARD_ENV' : env.NODE_ENV ? 'NODE_ENV' : undefined;
  if (!variable) return undefined;
  const name = env[variable]!;
  if (!FILE_ENV_NAME.test(name) || name.includes('..')) {
    throw new ConfigError({ source: variable, message: `expected an environment name of letters, digits, "_", "-" or ".", got ${JSON.stringify(name)}` });
  }
  return { name, variable };
}

export function loadConfig(options: LoadConfigOptions = {}): LoadedConfig {
  const env = options.env ?? process.env;
  const tree: Record<string, unknown> = {};
  const tracker = new OriginTracker();
  const files: string[] = [];

  for (const { layer, file } of configFileCandidates(options)) {
    const document = readConfigFile(file, env);
    if (document === undefined) continue;
    files.push(file);
    mergeInto(tree, normalizeNulls(document, []) as Record<string, unknown>, { layer, source: file }, tracker, []);
  }

  const { settings } = envVarLayer(env, tree);
  for (const setting of settings) {
    const value = normalizeNulls(setting.value, setting.path);
    mergeInto(tree, wrap(setting.path, value), { layer: 'env', source: setting.name }, tracker, []);
  }

  for (const [dotted, raw] of Object.entries(options.flags ?? {})) {
    if (raw === undefined) continue;
    const source = options.flagSources?.[dotted] ?? `--set ${dotted}`;
    let segments: string[];
    try {
      segments = parseDottedPath(dotted);
    } catch (error) {
      throw new ConfigError({ source, message: (error as Error).message });
    }
    const { path: keys, schema } = resolveConfigPath(segments, { style: 'flag', existing: [tree] });
    const value = normalizeNulls(typeof raw === 'string' ? coerceTextValue(raw, schema) : raw, keys);
    mergeInto(tree, wrap(keys, value), { layer: 'flag', source }, tracker, []);
  }

  const token = env.SWITCHYARD_TOKEN;
  if (token && getAtPath(tree, ['gateway', 'auth', 'token']) === undefined) {
    mergeInto(tree, wrap(['gateway', 'auth', 'token'], token), { layer: 'env', source: 'SWITCHYARD_TOKEN' }, tracker, []);
  }

  const parsed = ConfigSchema.safeParse(tree);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.flatMap((issue) => describeIssue(issue, tree, tracker)));
  const config = parsed.data;
  if (!Object.hasOwn(config.agents, 'main')) config.agents = { main: {}, ...config.agents };

  const origins = new Map<string, Origin>();
  for (const leaf of leafPaths(config)) origins.set(formatPath(leaf), tracker.get(leaf) ?? DEFAULT_ORIGIN);
  return { config, origins, files };
}

// ---------------------------------------------------------------------------------------
// Files

/** Reads, parses and interpolates one config file; undefined when it does not exist. */
function readConfigFile(file: string, env: NodeJS.ProcessEnv): Record<string, unknown> | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw new ConfigError({ source: file, message: `cannot read the file (${code ?? (error as Error).message})` }, { cause: error });
  }
  const document = parseYamlDocument(text, file);
  const interpolatedPaths: PathSegment[][] = [];
  const interpolated = interpolate(document, env, { source: file, onInterpolated: (p) => interpolatedPaths.push(p) }) as Record<string, unknown>;
  // `port: ${PORT}` gives the string "9000"; where the schema wants a number, boolean or
  // list, read it as YAML like an env var. Untyped sections keep the text as written.
  for (const at of interpolatedPaths) {
    const schema = schemaAtPath(at);
    if (!schema || acceptsString(schema)) continue;
    const value = getAtPath(interpolated, at);
    if (typeof value === 'string') setAtPathAny(interpolated, at, parseYamlValue(value));
  }
  return interpolated;
}

/**
 * The yaml library's message without the source text some of them end with (an unresolved
 * alias names itself: `token: *s3cret` would print the token). The position says where.
 */
function withoutSourceText(message: string): string {
  return message.replace(/:\s[\s\S]*$/, '');
}

/** Parses YAML text; syntax errors name the file, line and column, never the text itself. */
export function parseYamlDocument(text: string, file: string): Record<string, unknown> {
  const lineCounter = new LineCounter();
  const document = YAML.parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, merge: true });
  const error = document.errors[0];
  if (error) {
    const { line, col } = lineCounter.linePos(error.pos[0]);
    throw new ConfigError({ source: `${file}:${line}:${col}`, message: `invalid YAML: ${withoutSourceText(error.message)}` });
  }
  let value: unknown;
  try {
    value = document.toJS({ maxAliasCount: 1000 });
  } catch (cause) {
    throw new ConfigError({ source: file, message: `invalid YAML: ${withoutSourceText((cause as Error).message)}` });
  }
  if (value === null || value === undefined) return {};
  if (!isPlainObject(value)) {
    throw new ConfigError({ source: file, message: `expected a mapping of sections (gateway, temporal, agents, ...) at the top level, got ${kindOf(value)}` });
  }
  return value;
}

// ---------------------------------------------------------------------------------------
// Merging and origins

/** Leaf origins by path; keys are JSON-encoded paths so that keys with dots stay unambiguous. */
class OriginTracker {
  private readonly entries = new Map<string, { path: PathSegment[]; origin: Origin }>();

  set(at: PathSegment[], origin: Origin): void {
    this.entries.set(JSON.stringify(at.map(String)), { path: at, origin });
  }

  delete(at: PathSegment[]): void {
    this.entries.delete(JSON.stringify(at.map(String)));
  }

  get(at: readonly PathSegment[]): Origin | undefined {
    return this.entries.get(JSON.stringify(at.map(String)))?.origin;
  }

  /** Forgets `at` and everything below it: a lower layer's leaves a higher layer replaced. */
  clearUnder(at: PathSegment[]): void {
    for (const [key, entry] of this.entries) if (isPrefix(at, entry.path)) this.entries.delete(key);
  }

  /** The best guess at who set the value at `at`: itself, else the nearest ancestor, else the last descendant set. */
  sourceOf(at: readonly PathSegment[]): Origin | undefined {
    for (let length = at.length; length >= 0; length -= 1) {
      const origin = this.get(at.slice(0, length));
      if (origin) return origin;
    }
    let found: Origin | undefined;
    for (const entry of this.entries.values()) if (isPrefix(at, entry.path)) found = entry.origin;
    return found;
  }
}

function isPrefix(prefix: readonly PathSegment[], full: readonly PathSegment[]): boolean {
  return prefix.length <= full.length && prefix.every((segment, index) => String(segment) === String(full[index]));
}

function mergeInto(target: Record<string, unknown>, source: Record<string, unknown>, origin: Origin, tracker: OriginTracker, prefix: PathSegment[]): void {
  for (const [key, value] of Object.entries(source)) {
    const at = [...prefix, key];
    if (isPlainObject(value)) {
      if (!isPlainObject(target[key])) {
        tracker.clearUnder(at);
        target[key] = {};
      }
      const child = target[key] as Record<string, unknown>;
      if (Object.keys(value).length > 0) tracker.delete(at);
      mergeInto(child, value, origin, tracker, at);
      if (Object.keys(child).length === 0) tracker.set(at, origin);
    } else {
      tracker.clearUnder(at);
      target[key] = structuredClone(value);
      tracker.set(at, origin);
    }
  }
}

function wrap(at: readonly string[], value: unknown): Record<string, unknown> {
  const tree: Record<string, unknown> = {};
  setAtPath(tree, at, value);
  return tree;
}

/** `reviewer:` with nothing after it means an agent with defaults: null becomes {} where a mapping is expected. */
function normalizeNulls(value: unknown, at: PathSegment[]): unknown {
  const schema = schemaAtPath(at);
  if (value === null) return expectsMapping(schema) ? {} : null;
  if (Array.isArray(value)) return value.map((item, index) => normalizeNulls(item, [...at, index]));
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(value)) out[key] = normalizeNulls(child, [...at, key]);
    return out;
  }
  return value;
}

/** Splits `agents.reviewer.model`; a segment holding dots is quoted: `agents."my.agent".model`. */
export function parseDottedPath(dotted: string): string[] {
  const segments: string[] = [];
  let i = 0;
  while (i <= dotted.length) {
    if (dotted[i] === '"') {
      const end = dotted.indexOf('"', i + 1);
      if (end < 0) throw new Error(`unterminated quote in path ${JSON.stringify(dotted)}`);
      segments.push(dotted.slice(i + 1, end));
      i = end + 1;
      if (i < dotted.length && dotted[i] !== '.') throw new Error(`expected "." after a quoted segment in path ${JSON.stringify(dotted)}`);
      i += 1;
    } else {
      const end = dotted.indexOf('.', i);
      const segment = end < 0 ? dotted.slice(i) : dotted.slice(i, end);
      segments.push(segment);
      i = end < 0 ? dotted.length + 1 : end + 1;
    }
  }
  if (segments.length === 0 || segments.some((segment) => segment === '')) {
    throw new Error(`expected a dotted config path such as gateway.port, got ${JSON.stringify(dotted)}`);
  }
  return segments;
}

// ---------------------------------------------------------------------------------------
// Tree helpers

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export function getAtPath(tree: unknown, at: readonly PathSegment[]): unknown {
  let node: unknown = tree;
  for (const key of at) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[String(key)];
  }
  return node;
}

function setAtPathAny(tree: unknown, at: readonly PathSegment[], value: unknown): void {
  const parent = getAtPath(tree, at.slice(0, -1));
  if (parent !== null && typeof parent === 'object') (parent as Record<string, unknown>)[String(at[at.length - 1])] = value;
}

/** Paths of every leaf: scalars, arrays and empty mappings. */
export function leafPaths(value: unknown, prefix: PathSegment[] = []): PathSegment[][] {
  if (!isPlainObject(value)) return value === undefined ? [] : [prefix];
  const entries = Object.entries(value).filter(([, child]) => child !== undefined);
  if (entries.length === 0) return prefix.length === 0 ? [] : [prefix];
  return entries.flatMap(([key, child]) => leafPaths(child, [...prefix, key]));
}

// ---------------------------------------------------------------------------------------
// Messages

function kindOf(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return 'a string';
  if (typeof value === 'number') return 'a number';
  if (typeof value === 'boolean') return 'a boolean';
  return `a ${typeof value}`;
}

/** What the user wrote, for "got ...": the value itself unless it is secret or large. */
const MAPPING_TYPES = new Set(['object', 'record', 'map']);

function describeValue(value: unknown, secret: boolean): string {
  if (secret || value === undefined || value === null || typeof value === 'object') return kindOf(value);
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  return String(value);
}

const EXPECTED: Record<string, string> = {
  number: 'a number',
  int: 'an integer',
  string: 'a string',
  boolean: 'true or false',
  object: 'a mapping',
  record: 'a mapping',
  map: 'a mapping',
  array: 'a list',
  tuple: 'a list',
  null: 'null',
};

function bound(issue: { inclusive?: boolean }, op: '>' | '<'): string {
  return issue.inclusive === false ? op : `${op}=`;
}

function describeIssue(issue: z.core.$ZodIssue, tree: unknown, tracker: OriginTracker): ConfigIssue[] {
  const at = issue.path.filter((segment): segment is PathSegment => typeof segment !== 'symbol');
  const value = getAtPath(tree, at);
  // A scalar where a mapping or one of several forms belongs may be a secret one
  // level off (`auth: <token>`, `verify: <secret>`): name its kind only.
  const outOfPlace = (issue.code === 'invalid_type' && MAPPING_TYPES.has(issue.expected)) || issue.code === 'invalid_union';
  const got = `got ${describeValue(value, isSecretPath(at) || outOfPlace)}`;
  const make = (where: PathSegment[], message: string): ConfigIssue => ({
    source: tracker.sourceOf(where)?.source,
    path: where.length > 0 ? formatPath(where) : undefined,
    message,
  });

  switch (issue.code) {
    case 'invalid_type':
      if (value === undefined) return [make(at, `missing: expected ${EXPECTED[issue.expected] ?? issue.expected}`)];
      return [make(at, `expected ${EXPECTED[issue.expected] ?? `a ${issue.expected}`}, ${got}`)];
    case 'too_small': {
      const minimum = Number(issue.minimum);
      if (issue.origin === 'string') {
        return [make(at, `${minimum === 1 ? 'expected a non-empty string' : `expected at least ${minimum} characters`}, ${got}`)];
      }
      if (issue.origin === 'array' || issue.origin === 'set') return [make(at, `expected at least ${minimum} items, ${got}`)];
      return [make(at, `expected a number ${bound(issue, '>')} ${minimum}, ${got}`)];
    }
    case 'too_big': {
      const maximum = Number(issue.maximum);
      if (issue.origin === 'string') return [make(at, `expected at most ${maximum} characters, ${got}`)];
      if (issue.origin === 'array' || issue.origin === 'set') return [make(at, `expected at most ${maximum} items, ${got}`)];
      return [make(at, `expected a number ${bound(issue, '<')} ${maximum}, ${got}`)];
    }
    case 'invalid_format': {
      const expected = issue.message.startsWith('expected ')
        ? issue.message
        : issue.format === 'regex' && issue.pattern
          ? `expected a string matching ${issue.pattern}`
          : `expected ${issue.format} format`;
      return [make(at, `${expected}, ${got}`)];
    }
    case 'invalid_value': {
      const values = issue.values.map((option) => (typeof option === 'string' ? option : JSON.stringify(option)));
      return [make(at, `expected ${values.length === 1 ? JSON.stringify(issue.values[0]) : `one of ${values.join(', ')}`}, ${got}`)];
    }
    case 'unrecognized_keys': {
      const shapeSchema = schemaAtPath(at);
      const known = shapeSchema ? Object.keys((unwrapSchema(shapeSchema) as unknown as { shape?: object }).shape ?? {}) : [];
      return issue.keys.map((key) => {
        const suggestion = closest(key, known);
        const hint = suggestion ? `did you mean "${suggestion}"? ` : '';
        return make([...at, key], `unknown key; ${hint}expected one of: ${known.join(', ')}`);
      });
    }
    case 'invalid_key': {
      const inner = issue.issues[0];
      const reason = inner && inner.message.startsWith('expected ') ? inner.message : (inner?.message ?? issue.message);
      return [make(at, `invalid name ${JSON.stringify(String(at[at.length - 1]))}: ${reason}`)];
    }
    case 'not_multiple_of':
      return [make(at, `expected a multiple of ${String(issue.divisor)}, ${got}`)];
    case 'invalid_union':
      return [make(at, `${issue.message.startsWith('expected ') ? issue.message : 'does not match any allowed form'}, ${got}`)];
    default:
      return [make(at, issue.message)];
  }
}

/** The known key nearest to a misspelt one, if it is near enough to be a likely typo. */
function closest(key: string, known: readonly string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const name of known) {
    const distance = editDistance(key.toLowerCase(), name.toLowerCase());
    if (!best || distance < best.distance) best = { name, distance };
  }
  return best && best.distance <= Math.max(1, Math.floor(best.name.length / 3)) ? best.name : undefined;
}

/** Optimal-string-alignment distance: edits plus adjacent transpositions ("prot" → "port" is 1). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i += 1) {
    for (let j = 1; j <= b.length; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}
