// A strict reader of the Prometheus text exposition format (version 0.0.4), for tests:
// prom-client writes the format but cannot read it. Any line that is not a comment, a
// HELP/TYPE line or a well-formed sample throws, naming the line.
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  help?: string;
  type?: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  samples: Sample[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(.*)\\})?\\s+(\\S+)(?:\\s+(-?\\d+))?$`);
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(,|$)/y;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const SUFFIXES = ['_bucket', '_sum', '_count', '_total', '_created'];

export function parsePrometheusText(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const family = (name: string) => {
    let found = families.get(name);
    if (!found) families.set(name, (found = { name, samples: [] }));
    return found;
  };
  text.split('\n').forEach((line, index) => {
    const fail = (why: string): never => {
      throw new Error(`line ${index + 1}: ${why}: ${JSON.stringify(line)}`);
    };
    if (line.trim() === '') return;
    if (line.startsWith('#')) {
      const meta = new RegExp(`^# (HELP|TYPE) (${NAME}) ?(.*)$`).exec(line);
      if (!meta) return; // a plain comment
      const [, kind, name, rest] = meta as unknown as [string, string, string, string];
      if (kind === 'HELP') family(name).help = rest.replace(/\\n/g, '\n').replace(/\\\\/g, '\\');
      else if (TYPES.has(rest)) family(name).type = rest as Family['type'];
      else fail(`unknown type "${rest}"`);
      return;
    }
    const match = SAMPLE.exec(line);
    if (!match) return fail('not a sample');
    const [, name, labelText, valueText] = match as unknown as [string, string, string | undefined, string];
    const labels: Record<string, string> = {};
    if (labelText !== undefined && labelText.trim() !== '') {
      LABEL.lastIndex = 0;
      while (LABEL.lastIndex < labelText.length) {
        const start = LABEL.lastIndex;
        const label = LABEL.exec(labelText);
        if (!label || label.index !== start) fail('bad labels');
        const [, key, raw] = label as unknown as [string, string, string];
        if (key in labels) fail(`label ${key} twice`);
        labels[key] = raw.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
      }
    }
    // As Go's ParseFloat, which Prometheus uses: Inf and NaN in any case (prom-client writes "Nan").
    const special = /^([+-]?)inf$/i.exec(valueText);
    const isNaNText = /^nan$/i.test(valueText);
    const value = special ? (special[1] === '-' ? -Infinity : Infinity) : isNaNText ? NaN : Number(valueText);
    if (Number.isNaN(value) && !isNaNText) fail(`bad value "${valueText}"`);
    const owner = families.has(name) ? name : SUFFIXES.map((suffix) => (name.endsWith(suffix) ? name.slice(0, -suffix.length) : '')).find((base) => base && families.has(base));
    if (!owner) fail(`sample of an undeclared metric ${name}`);
    families.get(owner!)!.samples.push({ name, labels, value });
  });
  return families;
}

/** The sum of the samples called `name` whose labels include `labels` (0 when there is none). */
export function sampleValue(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const family of families.values()) {
    for (const sample of family.samples) {
      if (sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value)) total += sample.value;
    }
  }
  return total;
}
