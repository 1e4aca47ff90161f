// `switchyard service install|uninstall|status`: where the service file goes, what it runs,
// and the systemctl / launchctl calls that load it. The file text comes from the pure
// generators (systemd-unit.ts, launchd-plist.ts); this module does the I/O around them.
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { switchyardHome } from '../config/paths.js';
import { launchdPlist } from './launchd-plist.js';
import type { ServiceSpec } from './spec.js';
import { systemdUnit } from './systemd-unit.js';

export type ServiceKind = 'systemd' | 'launchd';

export const DEFAULT_SERVICE_NAME = 'switchyard';
export const ENV_FILE_NAME = 'service.env';

/** Non-secret variables the service keeps from the installing shell, when they are set. */
const KEPT_VARIABLES = ['SWITCHYARD_ENV', 'NODE_ENV', 'SWITCHYARD_TEMPORAL_BIN'] as const;

export class ServiceError extends Error {
  override name = 'ServiceError';
}

/** systemd on Linux, launchd on macOS, nothing elsewhere. */
export function serviceKind(platform: NodeJS.Platform = process.platform): ServiceKind | undefined {
  if (platform === 'linux') return 'systemd';
  if (platform === 'darwin') return 'launchd';
  return undefined;
}

export function serviceFileText(kind: ServiceKind, spec: ServiceSpec): string {
  return kind === 'systemd' ? systemdUnit(spec) : launchdPlist(spec);
}

/** `~/.config/systemd/user/<name>.service` (or under $XDG_CONFIG_HOME), `~/Library/LaunchAgents/<name>.plist`. */
export function serviceFilePath(kind: ServiceKind, name: string, env: NodeJS.ProcessEnv = process.env): string {
  const home = env.HOME || os.homedir();
  if (kind === 'launchd') return path.join(home, 'Library', 'LaunchAgents', `${name}.plist`);
  const configHome = env.XDG_CONFIG_HOME && path.isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : path.join(home, '.config');
  return path.join(configHome, 'systemd', 'user', `${name}.service`);
}

export interface SpecInput {
  name: string;
  /** `start` and its config flags. */
  args: string[];
  /** Switchyard's root (projectRoot()): bin/switchyard.js is under it. */
  root: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** The node binary (process.execPath). */
  execPath: string;
  envFile?: string;
  /** `--env KEY=VALUE` from the command line. */
  extraEnv?: Record<string, string>;
}

/** The service as the installing shell would run it: same node, same checkout, same PATH. */
export function buildServiceSpec(input: SpecInput): ServiceSpec {
  const home = switchyardHome(input.env);
  const nodeDir = path.dirname(input.execPath);
  const pathDirs = (input.env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(path.delimiter).filter(Boolean);
  // The agents' `claude` and the `temporal` CLI are found on PATH: a service manager's default PATH lacks the user's.
  const environment: Record<string, string> = { PATH: [...new Set([nodeDir, ...pathDirs])].join(path.delimiter) };
  for (const key of KEPT_VARIABLES) {
    const value = input.env[key];
    if (value) environment[key] = value;
  }
  Object.assign(environment, input.extraEnv ?? {});
  return {
    name: input.name,
    nodePath: path.resolve(input.execPath),
    entryScript: path.join(input.root, 'bin', 'switchyard.js'),
    args: input.args,
    workingDirectory: path.resolve(input.cwd),
    home,
    envFile: path.resolve(input.cwd, input.envFile ?? path.join(home, ENV_FILE_NAME)),
    environment,
    logFile: path.join(home, 'logs', 'service.log'),
  };
}

const ENV_FILE_TEMPLATE = `# Environment of the Switchyard service (switchyard service install). KEY=VALUE lines.
# Keep secrets here, not in the service file: this file is readable by you alone (mode 600).
# Agents need one of (see \`switchyard doctor\`):
# ANTHROPIC_API_KEY=sk-ant-...
# CLAUDE_CODE_OAUTH_TOKEN=...        (from \`claude setup-token\`)
# The API token, if the gateway needs one:
# SWITCHYARD_TOKEN=...
`;

export interface CommandResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs a command without a shell; never throws for a non-zero exit. */
export type CommandRunner = (command: string, args: string[]) => Promise<CommandResult>;

export const runCommand: CommandRunner = async (command, args) => {
  const result = await execa(command, args, { reject: false, timeout: 60_000, stdin: 'ignore', env: { SYSTEMD_PAGER: '', PAGER: 'cat' } });
  const failed = result.failed && result.exitCode === undefined;
  return {
    exitCode: result.exitCode ?? 1,
    stdout: String(result.stdout ?? ''),
    stderr: failed ? String(result.shortMessage ?? result.message ?? '') : String(result.stderr ?? ''),
  };
};

export interface ServiceContext {
  kind: ServiceKind;
  name: string;
  env: NodeJS.ProcessEnv;
  run: CommandRunner;
  /** Progress lines ("wrote …", "ran …"). */
  log: (line: string) => void;
}

const firstLine = (text: string) => text.trim().split('\n')[0] ?? '';

/** Undefined when `systemctl --user` works, else why not. */
export async function systemdUserManagerProblem(run: CommandRunner): Promise<string | undefined> {
  const result = await run('systemctl', ['--user', 'show-environment']);
  if (result.exitCode === 0) return undefined;
  return firstLine(result.stderr) || firstLine(result.stdout) || `systemctl --user exited with code ${result.exitCode}`;
}

function uid(): number {
  return process.getuid?.() ?? 0;
}

async function step(context: ServiceContext, command: string, args: string[], options: { allowFailure?: boolean } = {}): Promise<CommandResult> {
  const result = await context.run(command, args);
  const shown = `${command} ${args.join(' ')}`;
  if (result.exitCode !== 0 && !options.allowFailure) {
    throw new ServiceError(`${shown} failed (exit ${result.exitCode}): ${firstLine(result.stderr) || firstLine(result.stdout)}`);
  }
  context.log(`ran: ${shown}${result.exitCode !== 0 ? ` (exit ${result.exitCode}: ${firstLine(result.stderr) || 'ignored'})` : ''}`);
  return result;
}

export interface InstallResult {
  file: string;
  envFile: string;
  hints: string[];
}

/** Writes the service file (and an empty env file when there is none), then loads and starts it. */
export async function installService(context: ServiceContext, spec: ServiceSpec): Promise<InstallResult> {
  const text = serviceFileText(context.kind, spec);
  const file = serviceFilePath(context.kind, context.name, context.env);
  if (context.kind === 'systemd') {
    // Before writing anything: a unit that cannot be loaded is worse than none.
    const problem = await systemdUserManagerProblem(context.run);
    if (problem) {
      throw new ServiceError(
        [
          `no systemd user session to install into (systemctl --user: ${problem}).`,
          'Log in to a session that runs systemd (or set XDG_RUNTIME_DIR=/run/user/$(id -u) when one runs for you),',
          `or install it as a system unit: switchyard service install --print | sudo tee /etc/systemd/system/${context.name}.service`,
          `(add User=${context.env.USER || os.userInfo().username} under [Service]), then: sudo systemctl daemon-reload && sudo systemctl enable --now ${context.name}`,
        ].join('\n'),
      );
    }
  }
  await mkdir(path.dirname(spec.envFile), { recursive: true });
  if (!existsSync(spec.envFile)) {
    await writeFile(spec.envFile, ENV_FILE_TEMPLATE, { mode: 0o600 });
    context.log(`wrote ${spec.envFile} (mode 600): put ANTHROPIC_API_KEY and other secrets there`);
  }
  await chmod(spec.envFile, 0o600).catch(() => undefined);
  await mkdir(path.dirname(spec.logFile), { recursive: true });
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, text, { mode: 0o644 });
  context.log(`wrote ${file}`);

  const hints: string[] = [];
  if (context.kind === 'systemd') {
    const unit = `${context.name}.service`;
    await step(context, 'systemctl', ['--user', 'daemon-reload']);
    await step(context, 'systemctl', ['--user', 'enable', unit]);
    // restart, not start: an already running gateway picks up the new unit too.
    await step(context, 'systemctl', ['--user', 'restart', unit]);
    const user = context.env.USER || os.userInfo().username;
    const linger = await context.run('loginctl', ['show-user', user, '--property=Linger', '--value']);
    if (linger.stdout.trim() !== 'yes') {
      hints.push(`The gateway stops when you log out. To keep it running without a login session: loginctl enable-linger ${user}`);
    }
    hints.push(`Logs: journalctl --user -u ${unit} -f (and ${path.join(spec.home, 'logs')}/)`);
  } else {
    const target = `gui/${uid()}`;
    await step(context, 'launchctl', ['bootout', `${target}/${context.name}`], { allowFailure: true });
    await step(context, 'launchctl', ['enable', `${target}/${context.name}`]);
    await step(context, 'launchctl', ['bootstrap', target, file]);
    hints.push(`Logs: ${spec.logFile} (and ${path.join(spec.home, 'logs')}/)`);
  }
  hints.push(`Secrets: ${spec.envFile}; after editing it, restart: ${restartCommand(context.kind, context.name)}`);
  return { file, envFile: spec.envFile, hints };
}

export function restartCommand(kind: ServiceKind, name: string): string {
  return kind === 'systemd' ? `systemctl --user restart ${name}.service` : `launchctl kickstart -k gui/${uid()}/${name}`;
}

/** Stops and unloads the service and removes its file; the env file stays (it is the user's). */
export async function uninstallService(context: ServiceContext): Promise<{ file: string; removed: boolean }> {
  const file = serviceFilePath(context.kind, context.name, context.env);
  if (context.kind === 'systemd') {
    const problem = await systemdUserManagerProblem(context.run);
    if (problem) {
      if (!existsSync(file)) return { file, removed: false };
      throw new ServiceError(`no systemd user session to stop ${context.name}.service in (systemctl --user: ${problem}); remove ${file} yourself once it is stopped`);
    }
    await step(context, 'systemctl', ['--user', 'disable', '--now', `${context.name}.service`], { allowFailure: !existsSync(file) });
  } else {
    await step(context, 'launchctl', ['bootout', `gui/${uid()}/${context.name}`], { allowFailure: true });
  }
  if (!existsSync(file)) return { file, removed: false };
  await rm(file, { force: true });
  context.log(`removed ${file}`);
  if (context.kind === 'systemd') await step(context, 'systemctl', ['--user', 'daemon-reload']);
  return { file, removed: true };
}

export interface ServiceStatus {
  kind: ServiceKind;
  name: string;
  file: string;
  installed: boolean;
  /** Problems with the installed file: the node or entry script it runs no longer exists. */
  problems: string[];
  /** What the service manager says, when it could be asked. */
  manager: { reachable: boolean; detail: string };
  /** active / inactive / failed / activating (systemd), running / not running (launchd). */
  state?: string;
  enabled?: string;
  pid?: number;
  restarts?: number;
  lastExitStatus?: number;
}

/** The program paths the installed file runs (node, entry script), read back from our own format. */
export function installedProgram(kind: ServiceKind, text: string): string[] {
  if (kind === 'systemd') {
    const line = text.split('\n').find((each) => each.startsWith('ExecStart='));
    if (!line) return [];
    const words: string[] = [];
    const pattern = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
    for (const match of line.slice('ExecStart='.length).matchAll(pattern)) {
      const word = match[1] !== undefined ? match[1].replace(/\\(.)/g, '$1') : match[2]!;
      words.push(word.replaceAll('%%', '%').replaceAll('$$', '$'));
    }
    return words.filter((word) => !word.startsWith('-')).slice(0, 2);
  }
  const array = /<key>ProgramArguments<\/key>\s*<array>([\s\S]*?)<\/array>/.exec(text)?.[1] ?? '';
  const unescape = (value: string) =>
    value.replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&quot;', '"').replaceAll('&apos;', "'").replaceAll('&amp;', '&');
  return [...array.matchAll(/<string>([\s\S]*?)<\/string>/g)].map((match) => unescape(match[1]!)).filter((word) => !word.startsWith('-')).slice(0, 2);
}

/** `Key=Value` lines of `systemctl show`. */
export function parseSystemctlShow(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const equals = line.indexOf('=');
    if (equals > 0) out[line.slice(0, equals)] = line.slice(equals + 1).trim();
  }
  return out;
}

/** `state = running`, `pid = 123`, `last exit code = 78` of `launchctl print`. */
export function parseLaunchctlPrint(text: string): { state?: string; pid?: number; lastExitStatus?: number } {
  const value = (key: string) => new RegExp(`^\\s*${key} = (.+)$`, 'm').exec(text)?.[1]?.trim();
  const pid = Number(value('pid'));
  const lastExit = Number(value('last exit code'));
  return {
    ...(value('state') ? { state: value('state')! } : {}),
    ...(Number.isInteger(pid) && pid > 0 ? { pid } : {}),
    ...(Number.isInteger(lastExit) ? { lastExitStatus: lastExit } : {}),
  };
}

export async function serviceStatus(context: Omit<ServiceContext, 'log'>): Promise<ServiceStatus> {
  const file = serviceFilePath(context.kind, context.name, context.env);
  const status: ServiceStatus = { kind: context.kind, name: context.name, file, installed: false, problems: [], manager: { reachable: false, detail: '' } };
  let text: string | undefined;
  try {
    text = await readFile(file, 'utf8');
    status.installed = true;
  } catch {
    // not installed
  }
  if (text !== undefined) {
    for (const program of installedProgram(context.kind, text)) {
      if (!existsSync(program)) status.problems.push(`${program} no longer exists: reinstall (switchyard service install)`);
    }
  }
  if (context.kind === 'systemd') {
    const problem = await systemdUserManagerProblem(context.run);
    if (problem) {
      status.manager = { reachable: false, detail: `no systemd user session (${problem})` };
      return status;
    }
    const shown = await context.run('systemctl', [
      '--user',
      'show',
      `${context.name}.service`,
      '--property=ActiveState,SubState,UnitFileState,MainPID,NRestarts,ExecMainStatus,LoadState',
    ]);
    const props = parseSystemctlShow(shown.stdout);
    status.manager = { reachable: shown.exitCode === 0, detail: shown.exitCode === 0 ? `LoadState=${props.LoadState ?? '?'}` : firstLine(shown.stderr) };
    if (props.ActiveState) status.state = props.SubState ? `${props.ActiveState} (${props.SubState})` : props.ActiveState;
    if (props.UnitFileState) status.enabled = props.UnitFileState;
    const pid = Number(props.MainPID);
    if (pid > 0) status.pid = pid;
    if (props.NRestarts !== undefined && props.NRestarts !== '') status.restarts = Number(props.NRestarts);
    if (props.ExecMainStatus !== undefined && props.ExecMainStatus !== '') status.lastExitStatus = Number(props.ExecMainStatus);
    return status;
  }
  const printed = await context.run('launchctl', ['print', `gui/${uid()}/${context.name}`]);
  status.manager = { reachable: true, detail: printed.exitCode === 0 ? 'loaded' : 'not loaded' };
  if (printed.exitCode === 0) Object.assign(status, parseLaunchctlPrint(printed.stdout));
  else status.state = 'not loaded';
  return status;
}

/** True when the service is installed and its manager says it runs. */
export function serviceRunning(status: ServiceStatus): boolean {
  if (!status.installed) return false;
  return status.kind === 'systemd' ? status.state?.startsWith('active') === true : status.state === 'running';
}
