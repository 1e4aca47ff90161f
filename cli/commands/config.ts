// `switchyard config`: the resolved config (YAML, secrets redacted), `--json`, `--explain`
// (value, layer and source of every key), and `switchyard config schema` (JSON Schema).
// Invalid config: the message on stderr, exit 78.
import { Command, InvalidArgumentError } from 'commander';
import YAML from 'yaml';
import { resolveConfigPath, coerceTextValue } from '../../config/env-vars.js';
import { CONFIG_EXIT_CODE, isConfigError } from '../../config/errors.js';
import { explainConfig, renderExplain } from '../../config/explain.js';
import { configJsonSchema } from '../../config/json-schema.js';
import { loadConfig, parseDottedPath, type LoadedConfig } from '../../config/load.js';
import { redactConfig } from '../../config/redact.js';

export interface ConfigFlagOptions {
  /** `--set path=value`, repeatable. */
  set?: string[] | string;
  /** `--port <n>`: gateway.port. */
  port?: string | number;
  /** `--bind <addr>`: gateway.bind. */
  bind?: string;
}

export interface FlagLayer {
  /** Dotted path → value, for `loadConfig({ flags })`. */
  flags: Record<string, unknown>;
  /** Dotted path → the flag as typed (`--port`, `--set gateway.port`), for `loadConfig({ flagSources })`. */
  flagSources: Record<string, string>;
}

/** Commander parser of `--set path=value`: accumulates the raw strings, rejects malformed ones early. */
function collectSet(value: string, previous: string[] | undefined): string[] {
  const equals = value.indexOf('=');
  if (equals <= 0) throw new InvalidArgumentError('expected <path>=<value>, e.g. --set gateway.port=9000');
  try {
    parseDottedPath(value.slice(0, equals));
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
  return [...(previous ?? []), value];
}

/** Adds the flags that feed the config's flag layer (`--set`, `--port`, `--bind`) to a command. */
export function addConfigFlagOptions(command: Command): Command {
  return command
    .option('--set <path=value>', 'set a config value (repeatable); the value is read as YAML, e.g. --set worker.maxConcurrentTurns=8', collectSet)
    .option('--port <n>', 'gateway.port: the API port')
    .option('--bind <addr>', 'gateway.bind: the address the API binds to');
}

/** The flag layer and how to name each flag, from parsed commander options. */
export function flagLayerFromOptions(opts: ConfigFlagOptions | Record<string, unknown>): FlagLayer {
  const options = opts as ConfigFlagOptions;
  const flags: Record<string, unknown> = {};
  const flagSources: Record<string, string> = {};
  const sets = options.set === undefined ? [] : Array.isArray(options.set) ? options.set : [options.set];
  for (const entry of sets) {
    const equals = entry.indexOf('=');
    if (equals <= 0) continue;
    const dotted = entry.slice(0, equals);
    const { schema } = resolveConfigPath(parseDottedPath(dotted), { style: 'flag' });
    flags[dotted] = coerceTextValue(entry.slice(equals + 1), schema);
    flagSources[dotted] = `--set ${dotted}`;
  }
  if (options.port !== undefined) {
    flags['gateway.port'] = typeof options.port === 'string' ? coerceTextValue(options.port, undefined) : options.port;
    flagSources['gateway.port'] = '--port';
  }
  if (options.bind !== undefined) {
    flags['gateway.bind'] = String(options.bind);
    flagSources['gateway.bind'] = '--bind';
  }
  return { flags, flagSources };
}

/** Dotted path → value for `loadConfig({ flags })`, from parsed commander options (`start` uses it too). */
export function flagsFromOptions(opts: ConfigFlagOptions | Record<string, unknown>): Record<string, unknown> {
  return flagLayerFromOptions(opts).flags;
}

/** The flags as typed, for a child process that loads its config the same way (`start` → worker, API). */
export function configFlagArgv(options: ConfigFlagOptions): string[] {
  const sets = options.set === undefined ? [] : Array.isArray(options.set) ? options.set : [options.set];
  return [
    ...sets.flatMap((entry) => ['--set', entry]),
    ...(options.port !== undefined ? ['--port', String(options.port)] : []),
    ...(options.bind !== undefined ? ['--bind', options.bind] : []),
  ];
}

/** Parses a process's own argv for the config flags and loads the config (exit 78 when invalid). */
export function loadConfigFromArgv(name: string, argv: string[] = process.argv): LoadedConfig {
  const command = addConfigFlagOptions(new Command(name));
  command.parse(argv);
  return loadConfigForCommand(command);
}

export interface ConfigCommandIO {
  /** Defaults: process.cwd(), process.env. */
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Where the output goes; default the command's configured writeOut (stdout). */
  writeOut?: (text: string) => void;
}

/**
 * The command's config flags together with its ancestors' (a root program may define the
 * same flags globally): the nearest command wins, and `--set` lists concatenate, root first.
 */
export function configFlagOptions(command: Command): ConfigFlagOptions {
  const chain: Command[] = [];
  for (let current: Command | null = command; current; current = current.parent) chain.unshift(current);
  const merged: ConfigFlagOptions = { ...command.optsWithGlobals<ConfigFlagOptions>() };
  merged.set = chain.flatMap((each) => {
    const set = each.opts<ConfigFlagOptions>().set;
    return set === undefined ? [] : Array.isArray(set) ? set : [set];
  });
  return merged;
}

/** Loads the config with the command's flags; a ConfigError ends the command with exit 78. */
export function loadConfigForCommand(command: Command, io: ConfigCommandIO = {}): LoadedConfig {
  const { flags, flagSources } = flagLayerFromOptions(configFlagOptions(command));
  try {
    return loadConfig({ cwd: io.cwd, env: io.env, flags, flagSources });
  } catch (error) {
    if (isConfigError(error)) command.error(error.message, { exitCode: CONFIG_EXIT_CODE, code: 'switchyard.config.invalid' });
    throw error;
  }
}

function writer(command: Command, io: ConfigCommandIO): (text: string) => void {
  return io.writeOut ?? ((text) => (command.configureOutput().writeOut ?? ((s: string) => process.stdout.write(s)))(text));
}

export function configCommand(io: ConfigCommandIO = {}): Command {
  const command = new Command('config')
    .description('print the resolved config (secrets redacted); --explain shows where each value came from')
    .option('--json', 'print JSON instead of YAML')
    .option('--explain', 'print every value with the layer and file, env var or flag that set it');
  addConfigFlagOptions(command);
  command.action((options: { json?: boolean; explain?: boolean }, self: Command) => {
    const loaded = loadConfigForCommand(self, io);
    const write = writer(self, io);
    if (options.explain) {
      const entries = explainConfig(loaded);
      write(options.json ? `${JSON.stringify(entries, null, 2)}\n` : renderExplain(entries));
      return;
    }
    const redacted = redactConfig(loaded.config);
    write(options.json ? `${JSON.stringify(redacted, null, 2)}\n` : YAML.stringify(redacted, { lineWidth: 0 }));
  });

  command
    .command('schema')
    .description("print the config's JSON Schema (for editors: yaml-language-server, VS Code)")
    .action((_options: unknown, self: Command) => {
      writer(self, io)(`${JSON.stringify(configJsonSchema(), null, 2)}\n`);
    });

  return command;
}
