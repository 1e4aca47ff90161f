// `switchyard config --explain`: every resolved value with the layer and source that set it.
import { parseYamlValue } from './env-vars.js';
import { DEFAULT_ORIGIN, leafPaths, type ConfigLayer, type LoadedConfig } from './load.js';
import { formatPath, type PathSegment } from './interpolate.js';
import { REDACTED, redactConfig } from './redact.js';

export interface ExplainEntry {
  /** Dotted path, e.g. `gateway.port`. */
  path: string;
  /** The resolved value, secrets replaced by "[redacted]". */
  value: unknown;
  layer: ConfigLayer;
  /** The file, env var, flag, or "built-in". */
  source: string;
}

/** One entry per leaf of the resolved config, in config order. */
export function explainConfig(loaded: LoadedConfig): ExplainEntry[] {
  const redacted = redactConfig(loaded.config);
  return leafPaths(loaded.config).map((at) => {
    const path = formatPath(at);
    const origin = loaded.origins.get(path) ?? DEFAULT_ORIGIN;
    return { path, value: valueAt(redacted, at), layer: origin.layer, source: origin.source };
  });
}

/** The value at `at`, or "[redacted]" when a whole subtree above it was redacted. */
function valueAt(tree: unknown, at: readonly PathSegment[]): unknown {
  let node = tree;
  for (const key of at) {
    if (node === REDACTED) return REDACTED;
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[String(key)];
  }
  return node;
}

/** A value as one line: strings bare unless empty or ambiguous, everything else as JSON. */
export function formatExplainValue(value: unknown): string {
  if (value === REDACTED) return REDACTED;
  if (typeof value === 'string') {
    // Quoted when it would read as something else: "", " x", "8420", "true", "[a]".
    const bare = value !== '' && value.trim() === value && !/[\n\r\t"]/.test(value) && typeof parseYamlValue(value) === 'string';
    return bare ? value : JSON.stringify(value);
  }
  return JSON.stringify(value) ?? String(value);
}

/** An aligned text table: PATH  VALUE  LAYER  SOURCE. */
export function renderExplain(entries: readonly ExplainEntry[], options: { maxValueWidth?: number } = {}): string {
  const maxValueWidth = options.maxValueWidth ?? 60;
  const rows = entries.map((entry) => {
    let value = formatExplainValue(entry.value);
    if (value.length > maxValueWidth) value = `${value.slice(0, maxValueWidth - 3)}...`;
    return [entry.path, value, entry.layer, entry.source];
  });
  const header = ['PATH', 'VALUE', 'LAYER', 'SOURCE'];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}
