// The command-line layer of the config: `--set path=value` (repeatable; the value is read
// as YAML, so 9000 is a number), with `--port` and `--bind` as shorthands. `switchyard
// start` forwards these same arguments to the worker and API processes.
import { parse as parseYaml } from 'yaml';

export const FLAG_SHORTHANDS: Record<string, string> = { '--port': 'gateway.port', '--bind': 'gateway.bind' };

export function parseSetFlag(text: string): [string, unknown] {
  const at = text.indexOf('=');
  if (at <= 0) throw new Error(`--set expects path=value, got "${text}"`);
  const raw = text.slice(at + 1);
  let value: unknown = raw;
  try {
    value = raw === '' ? '' : parseYaml(raw);
  } catch {
    value = raw;
  }
  return [text.slice(0, at).trim(), value];
}

/** Config flags found in argv; anything else is left alone. */
export function flagsFromArgv(argv: string[]): Record<string, unknown> {
  const flags: Record<string, unknown> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [name, inline] = arg.includes('=') && arg.startsWith('--') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const takeValue = () => inline ?? argv[++i] ?? '';
    if (name === '--set') {
      const [path, value] = parseSetFlag(takeValue());
      flags[path] = value;
    } else if (name in FLAG_SHORTHANDS) {
      flags[FLAG_SHORTHANDS[name]!] = parseSetFlag(`x=${takeValue()}`)[1];
    }
  }
  return flags;
}

/** The argv that reproduces `flags`, for child processes. */
export function argvFromFlags(flags: Record<string, unknown>): string[] {
  return Object.entries(flags).flatMap(([path, value]) => ['--set', `${path}=${JSON.stringify(value)}`]);
}
