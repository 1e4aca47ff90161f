// `switchyard service install|uninstall|status`: run the gateway as a systemd user unit
// (Linux) or a launchd agent (macOS) that starts at login and comes back after a crash.
// `install --print` shows the file without installing anything (docs/operations.md).
//
// Exit status: 0 done (status: installed and running), 1 failed, 2 bad usage, 3 (status) not
// installed or not running, 78 invalid config.
import { Command } from 'commander';
import { isSecretPath } from '../../config/redact.js';
import { parseDottedPath } from '../../config/load.js';
import { ServiceSpecError } from '../../service/spec.js';
import { projectRoot } from '../../supervisor/temporal-binary.js';
import {
  buildServiceSpec,
  DEFAULT_SERVICE_NAME,
  installService,
  runCommand,
  serviceFileText,
  serviceKind,
  serviceRunning,
  serviceStatus,
  uninstallService,
  type ServiceKind,
  type ServiceStatus,
} from '../../service/manager.js';
import { addConfigFlagOptions, configFlagArgv, configFlagOptions, loadConfigForCommand } from './config.js';

export const SERVICE_EXIT = { ok: 0, failed: 1, usage: 2, notRunning: 3 } as const;

export interface ServiceCommandIO {
  writeOut?: (text: string) => void;
  writeErr?: (text: string) => void;
}

interface InstallOptions {
  print?: boolean;
  name: string;
  envFile?: string;
  env?: string[];
  platform?: string;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

class UsageError extends Error {}

function kindFrom(platform: string | undefined): ServiceKind {
  if (platform !== undefined) {
    if (platform === 'systemd' || platform === 'launchd') return platform;
    throw new UsageError(`--platform must be systemd or launchd, not ${JSON.stringify(platform)}`);
  }
  const kind = serviceKind();
  if (!kind) throw new UsageError(`no service manager support on ${process.platform}: Linux (systemd) and macOS (launchd) only`);
  return kind;
}

function parseEnvPairs(pairs: string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs ?? []) {
    const equals = pair.indexOf('=');
    if (equals <= 0) throw new UsageError(`--env ${pair}: expected KEY=VALUE`);
    out[pair.slice(0, equals)] = pair.slice(equals + 1);
  }
  return out;
}

export function describeServiceStatus(status: ServiceStatus): string {
  const lines = [`service ${status.name} (${status.kind}): ${status.installed ? `installed at ${status.file}` : `not installed (${status.file})`}`];
  if (!status.manager.reachable && status.manager.detail) lines.push(`  manager: ${status.manager.detail}`);
  if (status.state !== undefined) lines.push(`  state:   ${status.state}${status.pid ? `, pid ${status.pid}` : ''}`);
  if (status.enabled !== undefined) lines.push(`  enabled: ${status.enabled}`);
  if (status.restarts !== undefined) lines.push(`  restarts: ${status.restarts}`);
  if (status.lastExitStatus !== undefined && status.lastExitStatus !== 0) {
    lines.push(`  last exit status: ${status.lastExitStatus}${status.lastExitStatus === 78 ? ' (configuration refused: see `switchyard doctor`)' : ''}`);
  }
  for (const problem of status.problems) lines.push(`  problem: ${problem}`);
  return `${lines.join('\n')}\n`;
}

export function serviceCommand(io: ServiceCommandIO = {}): Command {
  const out = io.writeOut ?? ((text: string) => process.stdout.write(text));
  const err = io.writeErr ?? ((text: string) => process.stderr.write(text));
  const service = new Command('service')
    .description('run the gateway as a systemd user unit (Linux) or launchd agent (macOS); see docs/operations.md')
    .addHelpText('after', '\nExit status: 0 done, 1 failed, 2 bad usage, 3 (status) not installed or not running, 78 invalid config.');

  const fail = (error: unknown) => {
    err(`switchyard service: ${(error as Error).message}\n`);
    process.exitCode = error instanceof UsageError || error instanceof ServiceSpecError ? SERVICE_EXIT.usage : SERVICE_EXIT.failed;
  };
  const common = (command: Command) =>
    command
      .option('--name <name>', 'unit name / launchd label', DEFAULT_SERVICE_NAME)
      .option('--platform <kind>', 'systemd or launchd (default: this machine\'s)');

  const install = common(
    new Command('install')
      .description('write the service file, load it and start the gateway (start at login, restart on failure)')
      .option('--print', 'print the service file and do nothing else')
      .option('--env-file <path>', 'KEY=VALUE file for secrets, read at each start (default $SWITCHYARD_HOME/service.env)')
      .option('--env <KEY=VALUE>', 'a non-secret variable to set in the service file (repeatable)', collect),
  ).addHelpText(
    'after',
    '\nThe service runs `switchyard start` with this node, this checkout, this directory (./switchyard.yaml), SWITCHYARD_HOME,\n' +
      'PATH and the config flags given here (--set, --port, --bind). Secrets never go into the service file: put them in the env file.',
  );
  addConfigFlagOptions(install);
  install.action(async (options: InstallOptions, self: Command) => {
    try {
      const kind = kindFrom(options.platform);
      // A service that would refuse its config at every start is worse than none: check it now (exit 78).
      loadConfigForCommand(self);
      const flagOptions = configFlagOptions(self);
      const sets = flagOptions.set === undefined ? [] : Array.isArray(flagOptions.set) ? flagOptions.set : [flagOptions.set];
      for (const entry of sets) {
        const dotted = entry.slice(0, entry.indexOf('='));
        if (isSecretPath(parseDottedPath(dotted))) throw new UsageError(`--set ${dotted} is a secret: put it in the env file (e.g. SWITCHYARD_TOKEN=...), not in the service file`);
      }
      const spec = buildServiceSpec({
        name: options.name,
        args: ['start', ...configFlagArgv(flagOptions)],
        root: projectRoot(),
        cwd: process.cwd(),
        env: process.env,
        execPath: process.execPath,
        ...(options.envFile !== undefined ? { envFile: options.envFile } : {}),
        extraEnv: parseEnvPairs(options.env),
      });
      const text = serviceFileText(kind, spec);
      if (options.print) {
        out(text);
        return;
      }
      if (kind !== serviceKind()) throw new UsageError(`--platform ${kind} is for --print only on ${process.platform}`);
      const result = await installService({ kind, name: options.name, env: process.env, run: runCommand, log: (line) => out(`${line}\n`) }, spec);
      out(`installed ${result.file}; the gateway is starting (check: switchyard service status, switchyard status)\n`);
      for (const hint of result.hints) out(`${hint}\n`);
    } catch (error) {
      fail(error);
    }
  });
  service.addCommand(install);

  const uninstall = common(new Command('uninstall').description('stop the gateway and remove the service file (the env file is kept)'));
  uninstall.action(async (options: { name: string; platform?: string }) => {
    try {
      const kind = kindFrom(options.platform);
      const result = await uninstallService({ kind, name: options.name, env: process.env, run: runCommand, log: (line) => out(`${line}\n`) });
      out(result.removed ? `uninstalled ${options.name}\n` : `not installed (no ${result.file})\n`);
    } catch (error) {
      fail(error);
    }
  });
  service.addCommand(uninstall);

  const status = common(new Command('status').description('is the service installed, enabled and running').option('--json', 'print one line of JSON'));
  status.action(async (options: { name: string; platform?: string; json?: boolean }) => {
    try {
      const kind = kindFrom(options.platform);
      const result = await serviceStatus({ kind, name: options.name, env: process.env, run: runCommand });
      out(options.json ? `${JSON.stringify(result)}\n` : describeServiceStatus(result));
      process.exitCode = serviceRunning(result) ? SERVICE_EXIT.ok : SERVICE_EXIT.notRunning;
    } catch (error) {
      fail(error);
    }
  });
  service.addCommand(status);

  return service;
}

