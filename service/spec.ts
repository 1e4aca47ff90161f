// What a system service runs, independent of the service manager: `node <bin/switchyard.js>
// start [flags]` in a directory, with a few non-secret variables and an environment file for
// the secrets. systemd-unit.ts and launchd-plist.ts turn it into a file; nothing here touches
// the disk, so every field is given by the caller (service/install.ts gathers them).
import path from 'node:path';
import { looksSecretKey } from '../config/redact.js';

export interface ServiceSpec {
  /** The unit name (`<name>.service`) and launchd label. */
  name: string;
  /** Absolute path of the node binary: a service manager's PATH is not the user's shell's. */
  nodePath: string;
  /** Absolute path of bin/switchyard.js (it picks the TypeScript sources or dist/ itself). */
  entryScript: string;
  /** Arguments after the entry script: `start` and the config flags. */
  args: string[];
  /** Where `./switchyard.yaml` is read from and agents' relative `cwd` start. */
  workingDirectory: string;
  /** SWITCHYARD_HOME: state, logs, `config.yaml`. */
  home: string;
  /** KEY=VALUE file the user controls, for secrets (ANTHROPIC_API_KEY, SWITCHYARD_TOKEN, ...). */
  envFile: string;
  /** Non-secret variables written into the service file (PATH, SWITCHYARD_ENV, ...); SWITCHYARD_HOME is added. */
  environment: Record<string, string>;
  /** Where launchd appends the gateway's stdout and stderr (systemd uses the journal). */
  logFile: string;
}

export class ServiceSpecError extends Error {
  override name = 'ServiceSpecError';
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.@-]*$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Checks the spec and returns its environment with SWITCHYARD_HOME, sorted, so files are stable. */
export function serviceEnvironment(spec: ServiceSpec): Array<[string, string]> {
  if (!NAME.test(spec.name)) throw new ServiceSpecError(`service name ${JSON.stringify(spec.name)}: expected letters, digits, "_", "-", "." or "@"`);
  for (const [what, file] of [
    ['node', spec.nodePath],
    ['entry script', spec.entryScript],
    ['working directory', spec.workingDirectory],
    ['SWITCHYARD_HOME', spec.home],
    ['environment file', spec.envFile],
    ['log file', spec.logFile],
  ] as const) {
    if (!path.isAbsolute(file)) throw new ServiceSpecError(`${what} must be an absolute path, got ${JSON.stringify(file)}`);
    if (/[\n\r\0]/.test(file)) throw new ServiceSpecError(`${what} contains a line break or NUL`);
  }
  const environment: Record<string, string> = { ...spec.environment, SWITCHYARD_HOME: spec.home };
  for (const [key, value] of Object.entries(environment)) {
    if (!ENV_NAME.test(key)) throw new ServiceSpecError(`environment variable name ${JSON.stringify(key)} is not valid`);
    if (looksSecretKey(key)) throw new ServiceSpecError(`${key} looks like a secret: put it in the environment file ${spec.envFile}, not in the service file`);
    if (/[\n\r\0]/.test(value)) throw new ServiceSpecError(`the value of ${key} contains a line break or NUL`);
  }
  for (const arg of spec.args) if (/[\n\r\0]/.test(arg)) throw new ServiceSpecError(`argument ${JSON.stringify(arg)} contains a line break or NUL`);
  return Object.entries(environment).sort(([a], [b]) => a.localeCompare(b));
}
