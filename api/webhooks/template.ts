// The webhook mapping language: text with `{{ expression }}` holes, filled from the request.
//
//   {{body.repository.full_name}}   {{header.x-github-event}}   {{body.items[0].id}}
//   {{body | json}}   {{body.title | default: "untitled" | truncate: 80}}   {{ "{{" }}
//
// An expression is a path (roots: body, header/headers, query, source) or a quoted string
// or a number, then filters. Paths read own properties of plain data only: no code runs,
// no prototype is reachable (`__proto__`, `constructor`, `prototype` are refused when the
// template is compiled, and lookups use Object.hasOwn). Templates are compiled when the
// config is validated, so a syntax error is a config error; rendering never throws and its
// output is bounded.

export class TemplateError extends Error {
  override readonly name = 'TemplateError';
  constructor(
    message: string,
    /** 0-based offset in the template where the problem is. */
    readonly offset: number,
  ) {
    super(`${message} (at character ${offset + 1})`);
  }
}

export const TEMPLATE_ROOTS = ['body', 'header', 'headers', 'query', 'source'] as const;
export type TemplateRoot = (typeof TEMPLATE_ROOTS)[number];

/** Property names that lead to prototypes; never part of a path. */
const FORBIDDEN_SEGMENTS = new Set(['__proto__', 'constructor', 'prototype']);
export const FILTERS = ['json', 'upper', 'lower', 'trim', 'truncate', 'default'] as const;
type FilterName = (typeof FILTERS)[number];

const MAX_TEMPLATE_LENGTH = 64 * 1024;
const MAX_PATH_DEPTH = 32;
const MAX_FILTERS = 16;
const MAX_TRUNCATE = 1_000_000;
/** Rendering stops growing a string past this unless the caller asks for less. */
export const DEFAULT_MAX_OUTPUT = 256 * 1024;

export type PathSegment = string | number;
export interface PathExpr {
  kind: 'path';
  root: TemplateRoot;
  segments: PathSegment[];
}
type Primary = PathExpr | { kind: 'literal'; value: string | number };
interface Filter {
  name: FilterName;
  arg?: string | number;
}
interface Hole {
  primary: Primary;
  filters: Filter[];
}
type Part = string | Hole;

export interface TemplateContext {
  body?: unknown;
  /** Lower-cased header names. */
  headers?: Record<string, string | undefined>;
  query?: Record<string, string | undefined>;
  source?: string;
}

export interface RenderOptions {
  /** Characters; longer output is cut and `truncated` is set. */
  maxLength?: number;
}

export interface Rendered {
  text: string;
  truncated: boolean;
}

export interface Template {
  readonly source: string;
  /** True when the template is plain text (no holes). */
  readonly constant: boolean;
  render(context: TemplateContext, options?: RenderOptions): Rendered;
}

// ---------------------------------------------------------------------------------------
// Parsing

class Parser {
  pos = 0;
  constructor(readonly text: string) {}

  fail(message: string, at = this.pos): never {
    throw new TemplateError(message, at);
  }

  peek(): string | undefined {
    return this.text[this.pos];
  }

  skipSpace(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos]!)) this.pos += 1;
  }

  eat(token: string): boolean {
    if (this.text.startsWith(token, this.pos)) {
      this.pos += token.length;
      return true;
    }
    return false;
  }

  expect(token: string, what: string): void {
    if (!this.eat(token)) this.fail(`expected ${what}`);
  }

  identifier(): string | undefined {
    const match = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.text.slice(this.pos, this.pos + 256));
    if (!match) return undefined;
    this.pos += match[0].length;
    return match[0];
  }

  /** A dotted segment: letters, digits, `_`, `$` and `-` (header names, keys like `x-id`). */
  segment(): string | undefined {
    const match = /^[A-Za-z0-9_$-]+/.exec(this.text.slice(this.pos, this.pos + 1024));
    if (!match) return undefined;
    this.pos += match[0].length;
    return match[0];
  }

  string(): string | undefined {
    const quote = this.peek();
    if (quote !== '"' && quote !== "'") return undefined;
    const start = this.pos;
    this.pos += 1;
    let out = '';
    for (;;) {
      const char = this.text[this.pos];
      if (char === undefined) this.fail('unterminated string', start);
      this.pos += 1;
      if (char === quote) return out;
      if (char === '\\') {
        const escaped = this.text[this.pos];
        this.pos += 1;
        if (escaped === 'n') out += '\n';
        else if (escaped === 't') out += '\t';
        else if (escaped === '\\' || escaped === '"' || escaped === "'") out += escaped;
        else this.fail('unknown escape in string (use \\n, \\t, \\\\, \\" or \\\')', this.pos - 2);
      } else {
        out += char;
      }
    }
  }

  number(): number | undefined {
    const match = /^-?\d{1,15}(?:\.\d{1,15})?/.exec(this.text.slice(this.pos, this.pos + 40));
    if (!match) return undefined;
    this.pos += match[0].length;
    return Number(match[0]);
  }

  checkSegment(name: string, at: number): void {
    if (FORBIDDEN_SEGMENTS.has(name)) this.fail(`"${name}" is not allowed in a path`, at);
  }

  path(): PathExpr | undefined {
    const start = this.pos;
    const root = this.identifier();
    if (root === undefined) return undefined;
    if (!(TEMPLATE_ROOTS as readonly string[]).includes(root)) {
      this.fail(`unknown name "${root}"; expected one of ${TEMPLATE_ROOTS.join(', ')}`, start);
    }
    const segments: PathSegment[] = [];
    for (;;) {
      if (this.eat('.')) {
        const at = this.pos;
        const name = this.segment();
        if (name === undefined) this.fail('expected a name after "."');
        this.checkSegment(name, at);
        segments.push(/^\d+$/.test(name) && name.length < 10 ? Number(name) : name);
      } else if (this.eat('[')) {
        this.skipSpace();
        const at = this.pos;
        const key = this.string() ?? this.number();
        if (key === undefined) this.fail('expected a quoted key or an index inside [ ]');
        if (typeof key === 'number' && (!Number.isInteger(key) || key < 0)) this.fail('expected a non-negative index', at);
        if (typeof key === 'string') this.checkSegment(key, at);
        this.skipSpace();
        this.expect(']', '"]"');
        segments.push(key);
      } else {
        break;
      }
      if (segments.length > MAX_PATH_DEPTH) this.fail(`a path may have at most ${MAX_PATH_DEPTH} steps`, start);
    }
    if (root === 'source' && segments.length > 0) this.fail('"source" has no properties', start);
    return { kind: 'path', root: root === 'headers' ? 'header' : (root as TemplateRoot), segments };
  }

  primary(): Primary {
    const literal = this.string() ?? this.number();
    if (literal !== undefined) return { kind: 'literal', value: literal };
    const path = this.path();
    if (path) return path;
    this.fail('expected a path such as body.title, a quoted string or a number');
  }

  filter(): Filter {
    const at = this.pos;
    const name = this.identifier();
    if (name === undefined) this.fail('expected a filter name after "|"');
    if (!(FILTERS as readonly string[]).includes(name)) this.fail(`unknown filter "${name}"; expected one of ${FILTERS.join(', ')}`, at);
    this.skipSpace();
    let arg: string | number | undefined;
    if (this.eat(':')) {
      this.skipSpace();
      const argAt = this.pos;
      arg = this.string() ?? this.number();
      if (arg === undefined) this.fail(`expected a quoted string or a number as the argument of "${name}"`, argAt);
    }
    const filter = { name: name as FilterName, ...(arg === undefined ? {} : { arg }) };
    if (filter.name === 'truncate' && (typeof arg !== 'number' || !Number.isInteger(arg) || arg < 1 || arg > MAX_TRUNCATE)) {
      this.fail(`"truncate" needs a whole number from 1 to ${MAX_TRUNCATE}: truncate: 200`, at);
    }
    if (filter.name === 'default' && arg === undefined) this.fail('"default" needs a value: default: "none"', at);
    if (filter.name !== 'truncate' && filter.name !== 'default' && arg !== undefined) this.fail(`"${name}" takes no argument`, at);
    return filter;
  }

  hole(): Hole {
    this.skipSpace();
    const primary = this.primary();
    const filters: Filter[] = [];
    for (;;) {
      this.skipSpace();
      if (!this.eat('|')) break;
      this.skipSpace();
      filters.push(this.filter());
      if (filters.length > MAX_FILTERS) this.fail(`at most ${MAX_FILTERS} filters per expression`);
    }
    this.skipSpace();
    if (!this.eat('}}')) this.fail(this.pos >= this.text.length ? 'unclosed "{{": expected "}}"' : `unexpected "${this.text[this.pos]}": expected "|" or "}}"`);
    return { primary, filters };
  }

  parts(): Part[] {
    const parts: Part[] = [];
    while (this.pos < this.text.length) {
      const open = this.text.indexOf('{{', this.pos);
      if (open < 0) {
        parts.push(this.text.slice(this.pos));
        break;
      }
      if (open > this.pos) parts.push(this.text.slice(this.pos, open));
      this.pos = open + 2;
      parts.push(this.hole());
    }
    return parts;
  }
}

/** Compiles a template; throws TemplateError (with the offset) on a syntax error. */
export function compileTemplate(text: string): Template {
  if (typeof text !== 'string') throw new TemplateError('expected a string', 0);
  if (text.length > MAX_TEMPLATE_LENGTH) throw new TemplateError(`a template may have at most ${MAX_TEMPLATE_LENGTH} characters`, MAX_TEMPLATE_LENGTH);
  const parts = new Parser(text).parts();
  return {
    source: text,
    constant: parts.every((part) => typeof part === 'string'),
    render: (context, options) => render(parts, context, options?.maxLength ?? DEFAULT_MAX_OUTPUT),
  };
}

/** Parses a bare path such as `body.pull_request.draft` or `header.x-github-event` (filters and dedupe keys). */
export function parsePath(text: string): PathExpr {
  const parser: Parser = new Parser(text);
  const path = parser.path();
  if (!path) parser.fail('expected a path such as body.action or header.x-github-event');
  if (parser.pos !== text.length) parser.fail(`unexpected "${text[parser.pos]}" in a path`);
  return path;
}

/** The message of a template's syntax error, or undefined when it compiles. */
export function templateProblem(text: string): string | undefined {
  try {
    compileTemplate(text);
    return undefined;
  } catch (error) {
    return error instanceof TemplateError ? error.message : String(error);
  }
}

// ---------------------------------------------------------------------------------------
// Rendering

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Own data only: arrays by index, plain objects by own key. Anything else is absent. */
function step(value: unknown, key: PathSegment): unknown {
  if (Array.isArray(value)) {
    const index = typeof key === 'number' ? key : /^\d+$/.test(key) ? Number(key) : -1;
    return index >= 0 && index < value.length ? value[index] : undefined;
  }
  if (isRecord(value)) {
    const name = String(key);
    if (FORBIDDEN_SEGMENTS.has(name) || !Object.hasOwn(value, name)) return undefined;
    const descriptor = Object.getOwnPropertyDescriptor(value, name);
    return descriptor && 'value' in descriptor ? descriptor.value : undefined;
  }
  return undefined;
}

export function resolvePath(path: PathExpr, context: TemplateContext): unknown {
  let value: unknown;
  let segments = path.segments;
  switch (path.root) {
    case 'body':
      value = context.body;
      break;
    case 'header':
    case 'headers': {
      if (segments.length === 0) return context.headers;
      value = step(context.headers, String(segments[0]).toLowerCase());
      segments = segments.slice(1);
      break;
    }
    case 'query':
      value = context.query;
      break;
    case 'source':
      return context.source;
  }
  for (const segment of segments) {
    value = step(value, segment);
    if (value === undefined) return undefined;
  }
  return value;
}

function safeJson(value: unknown, indent?: number): string {
  try {
    return JSON.stringify(value, null, indent) ?? '';
  } catch {
    return '';
  }
}

/** How a value reads in text: strings as they are, data as compact JSON, nothing as "". */
export function stringify(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (typeof value === 'object') return safeJson(value);
  return '';
}

function cut(text: string, limit: number): string {
  if (text.length <= limit) return text;
  const codePoints = Array.from(text.slice(0, limit * 2 + 2));
  return codePoints.length <= limit ? text : codePoints.slice(0, limit).join('');
}

function applyFilter(value: unknown, filter: Filter, limit: number): unknown {
  switch (filter.name) {
    case 'json':
      return cut(safeJson(value, 2), limit);
    case 'upper':
      return cut(stringify(value), limit).toUpperCase();
    case 'lower':
      return cut(stringify(value), limit).toLowerCase();
    case 'trim':
      return stringify(value).trim();
    case 'truncate': {
      const max = filter.arg as number;
      const text = stringify(value);
      if (text.length <= max) return text;
      const codePoints = Array.from(text.slice(0, max * 2 + 2));
      return codePoints.length <= max ? text : `${codePoints.slice(0, max - 1).join('')}…`;
    }
    case 'default':
      return value === undefined || value === null || value === '' ? filter.arg : value;
  }
}

function render(parts: Part[], context: TemplateContext, maxLength: number): Rendered {
  const limit = Math.max(0, Math.floor(maxLength));
  let out = '';
  for (const part of parts) {
    let text: string;
    if (typeof part === 'string') {
      text = part;
    } else {
      try {
        let value = part.primary.kind === 'literal' ? part.primary.value : resolvePath(part.primary, context);
        for (const filter of part.filters) value = applyFilter(value, filter, limit + 1);
        text = stringify(value);
      } catch {
        text = '';
      }
    }
    out += text.length > limit - out.length ? text.slice(0, limit - out.length + 1) : text;
    if (out.length > limit) return { text: cut(out, limit), truncated: true };
  }
  return { text: out, truncated: false };
}
