// `${VAR}` interpolation in config files, so secrets stay in the environment:
//   ${VAR}           the value of VAR; an error if VAR is unset
//   ${VAR:-default}  the value of VAR, or `default` when VAR is unset or empty (may nest ${...})
//   $${              a literal "${"
// Applied to every string value (not keys) of a parsed YAML document, recursively.
import { ConfigError } from './errors.js';

const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export type PathSegment = string | number;

export interface InterpolateOptions {
  /** Named in errors: the file the document came from. */
  source?: string;
  /** Called with the path of every string that held at least one `${...}` reference. */
  onInterpolated?: (path: PathSegment[]) => void;
}

/** A dotted path for messages: `agents.main.env.API_KEY`; segments that are not plain names are quoted. */
export function formatPath(path: readonly PathSegment[]): string {
  return path
    .map((segment) => (typeof segment === 'number' ? String(segment) : /^[A-Za-z0-9_-]+$/.test(segment) ? segment : JSON.stringify(segment)))
    .join('.');
}

/** Interpolates every string value of `document`; returns a new document, the input is untouched. */
export function interpolate(document: unknown, env: Readonly<Record<string, string | undefined>>, options: InterpolateOptions = {}): unknown {
  const walk = (value: unknown, path: PathSegment[]): unknown => {
    if (typeof value === 'string') {
      if (!value.includes('${')) return value;
      const result = interpolateString(value, env, path, options.source);
      if (result.interpolated) options.onInterpolated?.(path);
      return result.text;
    }
    if (Array.isArray(value)) return value.map((item, index) => walk(item, [...path, index]));
    if (value !== null && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [key, child] of Object.entries(value)) out[key] = walk(child, [...path, key]);
      return out;
    }
    return value;
  };
  return walk(document, []);
}

/** Interpolates one string. `path` and `source` only serve error messages. */
export function interpolateString(
  text: string,
  env: Readonly<Record<string, string | undefined>>,
  path: readonly PathSegment[] = [],
  source?: string,
): { text: string; interpolated: boolean } {
  const fail = (message: string): never => {
    throw new ConfigError({ source, path: path.length > 0 ? formatPath(path) : undefined, message });
  };
  let out = '';
  let interpolated = false;
  let i = 0;
  while (i < text.length) {
    if (text.startsWith('$${', i)) {
      out += '${';
      i += 3;
      continue;
    }
    if (!text.startsWith('${', i)) {
      out += text[i];
      i += 1;
      continue;
    }
    const end = matchingBrace(text, i + 2);
    if (end < 0) fail('unterminated "${" (write "$${" for a literal "${")');
    const body = text.slice(i + 2, end);
    const separator = body.indexOf(':-');
    const name = separator >= 0 ? body.slice(0, separator) : body;
    if (!VARIABLE_NAME.test(name)) {
      fail(`invalid reference "\${${body}}": expected \${NAME} or \${NAME:-default} (write "$\${" for a literal "\${")`);
    }
    const value = env[name];
    if (separator >= 0) {
      if (value === undefined || value === '') {
        out += interpolateString(body.slice(separator + 2), env, path, source).text;
      } else {
        out += value;
      }
    } else {
      if (value === undefined) fail(`environment variable ${name} is not set (write \${${name}:-default} to give a default)`);
      out += value;
    }
    interpolated = true;
    i = end + 1;
  }
  return { text: out, interpolated };
}

/** Index of the `}` closing a `${` whose body starts at `start`, allowing nested `${...}`; -1 if none. */
function matchingBrace(text: string, start: number): number {
  let depth = 0;
  for (let i = start; i < text.length; i += 1) {
    if (text.startsWith('$${', i)) {
      i += 2;
    } else if (text.startsWith('${', i)) {
      depth += 1;
      i += 1;
    } else if (text[i] === '}') {
      if (depth === 0) return i;
      depth -= 1;
    }
  }
  return -1;
}
