// The checks of `switchyard doctor`, one small function each. Every check answers with a
// name, a status, what it found and, when something is wrong, one line saying how to fix it.
// They find things the way the gateway does (the temporal binary, the agents' `claude`, the
// readiness of /readyz), so that "doctor is happy" means "start will work".
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { execa } from 'execa';
import { z } from 'zod';
import { agentEnvironment, resolveCommand } from '../../activities/claude-invocation.js';
import { assertSafeBind } from '../../api/auth.js';
import { checkReadiness } from '../../api/readiness.js';
import { RpcClient, RpcConnectError } from '../../client/rpc-client.js';
import { isConfigError } from '../../config/errors.js';
import type { LoadedConfig } from '../../config/load.js';
import { isEmbeddedTemporal, temporalAddress } from '../../config/paths.js';
import { agentIds, resolveAgent, type Config } from '../../config/schema.js';
import { AGENT_TASK_QUEUE, WORKFLOW_TASK_QUEUE } from '../../contracts/names.js';
import { isPortFree } from '../../supervisor/gateway-supervisor.js';
import { runningInstance } from '../../supervisor/instance-lock.js';
import { findTemporalBinary, TEMPORAL_CLI_PACKAGE, TEMPORAL_CLI_VERSION, toolsBinary } from '../../supervisor/temporal-binary.js';
import { restartCommand, serviceRunning, serviceStatus, type CommandRunner, type ServiceKind } from '../../service/manager.js';
import { descendsFrom, portHolder } from './port-holder.js';

/** ok: fine; warn: worth knowing, not a failure; fail: doctor exits non-zero; skip: not applicable. */
export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

export interface CheckResult {
  name: string;
  status: CheckStatus;
  /** False only for `fail`. */
  ok: boolean;
  detail: string;
  /** How to fix it; set for warn and fail. */
  fix?: string;
}

export function check(name: string, status: CheckStatus, detail: string, fix?: string): CheckResult {
  return { name, status, ok: status !== 'fail', detail, ...(fix !== undefined && status !== 'ok' && status !== 'skip' ? { fix } : {}) };
}

export interface DoctorContext {
  config: Config;
  /** The environment the gateway would see: this shell's, plus the service's env file when there is one. */
  env: NodeJS.ProcessEnv;
  /** Where the gateway runs: agents' relative paths start here. */
  cwd: string;
  home: string;
  /** Switchyard's own root (.tools/bin/temporal, node_modules/.bin/claude). */
  root: string;
  /** How long a network check may take. */
  timeoutMs: number;
}

const firstLine = (text: string) => text.trim().split('\n')[0] ?? '';

/** A local binary's answer: generous, a 200 MB CLI starts slowly on a busy machine. */
const BINARY_TIMEOUT_MS = 60_000;

async function version(binary: string, env: NodeJS.ProcessEnv): Promise<{ ok: true; text: string } | { ok: false; text: string }> {
  const result = await execa(binary, ['--version'], { reject: false, timeout: BINARY_TIMEOUT_MS, env, extendEnv: false, stdin: 'ignore' });
  if (result.exitCode === 0) return { ok: true, text: firstLine(String(result.stdout)) || firstLine(String(result.stderr)) };
  return { ok: false, text: firstLine(String(result.stderr)) || firstLine(String(result.stdout)) || result.shortMessage || `exit ${result.exitCode}` };
}

// ---------------------------------------------------------------------------------------

/** The config loads and validates, and its bind is safe. */
export function checkConfig(load: () => LoadedConfig): { result: CheckResult; loaded?: LoadedConfig } {
  let loaded: LoadedConfig;
  try {
    loaded = load();
  } catch (error) {
    if (!isConfigError(error)) throw error;
    return { result: check('config', 'fail', `invalid: ${error.message}`, 'correct the value named above; `switchyard config --explain` shows where each value comes from (docs/config.md)') };
  }
  const { config } = loaded;
  try {
    assertSafeBind(config.gateway.bind, config.gateway.auth.token);
  } catch (error) {
    return { result: check('config', 'fail', (error as Error).message, 'set SWITCHYARD_TOKEN (in the service env file for a service), or gateway.bind: 127.0.0.1'), loaded };
  }
  const files = loaded.files.length === 0 ? 'no config files, built-in defaults' : loaded.files.join(', ');
  return { result: check('config', 'ok', `valid (${files}); agents: ${agentIds(config).join(', ')}`), loaded };
}

/** The `temporal` CLI, found as `switchyard start` finds it (without building it), and its version. */
export async function checkTemporalCli(context: DoctorContext): Promise<CheckResult> {
  const name = 'temporal CLI';
  if (!isEmbeddedTemporal(context.config)) return check(name, 'skip', `not needed: temporal.address is ${context.config.temporal.address}`);
  let found;
  try {
    found = await findTemporalBinary({ env: context.env, projectRoot: context.root });
  } catch (error) {
    return check(name, 'fail', (error as Error).message, 'point SWITCHYARD_TEMPORAL_BIN at the temporal binary, or unset it');
  }
  if (!found) {
    return check(
      name,
      'fail',
      'not found ($SWITCHYARD_TEMPORAL_BIN, PATH, .tools/bin)',
      `put \`temporal\` on PATH, or set SWITCHYARD_TEMPORAL_BIN, or let \`switchyard start\` build it with Go (go install ${TEMPORAL_CLI_PACKAGE}@${TEMPORAL_CLI_VERSION} into ${path.dirname(toolsBinary(context.root))}), or set temporal.address to an existing server`,
    );
  }
  const answer = await version(found.path, context.env);
  if (!answer.ok) return check(name, 'fail', `${found.path} --version failed: ${answer.text}`, 'reinstall the temporal CLI, or point SWITCHYARD_TEMPORAL_BIN at a working one');
  return check(name, 'ok', `${found.path} (${found.via}): ${answer.text}`);
}

/** Each distinct agent command, resolved as the worker resolves it, and its version. */
export async function checkClaudeCli(context: DoctorContext): Promise<CheckResult[]> {
  const byCommand = new Map<string, string[]>();
  for (const id of agentIds(context.config)) {
    const agent = resolveAgent(context.config, id);
    if (agent) byCommand.set(agent.command, [...(byCommand.get(agent.command) ?? []), id]);
  }
  const results: CheckResult[] = [];
  for (const [command, agents] of byCommand) {
    const name = byCommand.size === 1 ? 'claude CLI' : `claude CLI (${agents.join(', ')})`;
    const resolved = resolveCommand(command, { baseDir: context.cwd, env: context.env });
    if (!resolved) {
      results.push(
        check(
          name,
          'fail',
          `${command} not found (a path from ${context.cwd}, then PATH, then node_modules/.bin)`,
          'install it (npm install -g @anthropic-ai/claude-code), or set agentDefaults.command (or agents.<id>.command) to its path',
        ),
      );
      continue;
    }
    const answer = await version(resolved, context.env);
    results.push(
      answer.ok ? check(name, 'ok', `${resolved}: ${answer.text}`) : check(name, 'fail', `${resolved} --version failed: ${answer.text}`, 'reinstall the Claude CLI (npm install -g @anthropic-ai/claude-code)'),
    );
  }
  return results;
}

const AuthStatus = z.looseObject({
  loggedIn: z.boolean(),
  authMethod: z.string().optional(),
  apiProvider: z.string().optional(),
  apiKeySource: z.string().optional(),
});

const CREDENTIALS_FIX =
  'give the agents a credential: ANTHROPIC_API_KEY (or CLAUDE_CODE_OAUTH_TOKEN from `claude setup-token`) in the environment or the service env file, or agents.<id>.env, or log in once with `claude` using the same CLAUDE_CONFIG_DIR';

/**
 * Whether each agent's CLI has a credential, asked of the CLI itself (`claude auth status`)
 * with the exact environment a turn gets: it knows every source (API key, OAuth token, a
 * login in CLAUDE_CONFIG_DIR, Bedrock/Vertex). A CLI that cannot say is "unknown", not "ok".
 */
export async function checkCredentials(context: DoctorContext): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const id of agentIds(context.config)) {
    const agent = resolveAgent(context.config, id);
    if (!agent) continue;
    const name = `credentials (${id})`;
    const resolved = resolveCommand(agent.command, { baseDir: context.cwd, env: context.env });
    if (!resolved) {
      results.push(check(name, 'skip', `unknown: ${agent.command} not found`));
      continue;
    }
    const env = agentEnvironment(context.env, agent);
    const answer = await execa(resolved, ['auth', 'status', '--json'], { reject: false, timeout: BINARY_TIMEOUT_MS, env, extendEnv: false, stdin: 'ignore', cwd: context.cwd });
    let parsed: z.infer<typeof AuthStatus> | undefined;
    try {
      parsed = AuthStatus.parse(JSON.parse(String(answer.stdout)));
    } catch {
      parsed = undefined;
    }
    const configDir = env.CLAUDE_CONFIG_DIR ? `, CLAUDE_CONFIG_DIR ${env.CLAUDE_CONFIG_DIR}` : '';
    if (!parsed) {
      results.push(
        check(name, 'warn', `unknown: \`${path.basename(resolved)} auth status\` gave no answer doctor understands (exit ${answer.exitCode ?? '?'}: ${firstLine(String(answer.stderr)) || 'no output'})`, CREDENTIALS_FIX),
      );
    } else if (!parsed.loggedIn) {
      results.push(check(name, 'fail', `none: the Claude CLI has no credential in the agent's environment${configDir}`, CREDENTIALS_FIX));
    } else {
      const how = [parsed.authMethod, parsed.apiKeySource ? `from ${parsed.apiKeySource}` : undefined, parsed.apiProvider && parsed.apiProvider !== 'firstParty' ? `via ${parsed.apiProvider}` : undefined]
        .filter(Boolean)
        .join(' ');
      results.push(check(name, 'ok', `${how || 'logged in'}${configDir}`));
    }
  }
  return results;
}

function startFix(context: DoctorContext): string {
  return isEmbeddedTemporal(context.config)
    ? 'start the gateway, which runs Temporal: `switchyard start` (or `switchyard service install`)'
    : `make sure the Temporal server at ${context.config.temporal.address} runs and is reachable from here (temporal.address)`;
}

/** Temporal answers (and has the namespace), and a worker polls each task queue, as /readyz checks. */
export async function checkTemporal(context: DoctorContext): Promise<CheckResult[]> {
  const address = temporalAddress(context.config);
  const namespace = context.config.temporal.namespace;
  let connection: Connection;
  try {
    connection = await Connection.connect({ address, connectTimeout: context.timeoutMs });
  } catch (error) {
    return [
      check('temporal', 'fail', `${address} unreachable: ${firstLine((error as Error).message)}`, startFix(context)),
      check('workers', 'skip', 'unknown: Temporal is unreachable'),
    ];
  }
  try {
    try {
      await connection.withDeadline(Date.now() + context.timeoutMs, () => connection.workflowService.describeNamespace({ namespace }));
    } catch (error) {
      return [
        check(
          'temporal',
          'fail',
          `${address} answers, but namespace ${namespace}: ${firstLine((error as Error).message)}`,
          `create it (temporal operator namespace create --namespace ${namespace} --address ${address}) or set temporal.namespace`,
        ),
        check('workers', 'skip', 'unknown: no namespace'),
      ];
    }
    const client = new Client({ connection, namespace });
    const readiness = await checkReadiness(client, namespace, () => ({ ok: true, detail: '' }));
    const temporal = readiness.checks.temporal.ok
      ? check('temporal', 'ok', `${address}, namespace ${namespace}: reachable`)
      : check('temporal', 'fail', `${address}: ${readiness.checks.temporal.detail}`, startFix(context));
    const workers = readiness.checks.worker.ok
      ? check('workers', 'ok', readiness.checks.worker.detail)
      : check(
          'workers',
          'fail',
          readiness.checks.worker.detail,
          `start the gateway (\`switchyard start\`, or the service); its worker polls ${WORKFLOW_TASK_QUEUE} and ${AGENT_TASK_QUEUE}; if it runs, see $SWITCHYARD_HOME/logs/worker.log`,
        );
    return [temporal, workers];
  } finally {
    await connection.close().catch(() => undefined);
  }
}

export interface GatewayProbe {
  result: CheckResult;
  /** The gateway's API process, when it answered. */
  pid?: number;
}

/** The API answers gateway.status over /rpc. */
export async function checkGatewayApi(context: DoctorContext, target: { url: string; token: string | undefined }): Promise<GatewayProbe> {
  let client: RpcClient;
  try {
    client = await RpcClient.connect(target.url, { ...(target.token ? { token: target.token } : {}), connectTimeoutMs: context.timeoutMs });
  } catch (error) {
    if (error instanceof RpcConnectError && error.status === 401) {
      return { result: check('gateway API', 'fail', `${target.url} refused the token (401)`, 'set SWITCHYARD_TOKEN to the gateway\'s token (or pass --token)') };
    }
    return { result: check('gateway API', 'fail', `${target.url} not answering: ${firstLine((error as Error).message)}`, 'start the gateway: `switchyard start` (or `switchyard service install`)') };
  }
  try {
    const status = await client.call('gateway.status');
    return { result: check('gateway API', 'ok', `${target.url}: v${status.version}, pid ${status.pid}, ${status.ready ? 'ready' : 'not ready'}`), pid: status.pid };
  } catch (error) {
    return { result: check('gateway API', 'fail', `${target.url}: ${firstLine((error as Error).message)}`, 'see $SWITCHYARD_HOME/logs/api.log') };
  } finally {
    await client.close().catch(() => undefined);
  }
}

/**
 * The ports `switchyard start` binds are free, or held by this home's running gateway.
 * A port held by anything else names the process and the key to change.
 */
export async function checkPorts(context: DoctorContext, gatewayApiPid?: number): Promise<CheckResult[]> {
  const { config } = context;
  const ports: Array<{ host: string; port: number; key: string; what: string }> = [];
  if (config.gateway.port !== 0) ports.push({ host: config.gateway.bind, port: config.gateway.port, key: 'gateway.port', what: 'API' });
  if (isEmbeddedTemporal(config)) {
    ports.push({ host: '127.0.0.1', port: config.temporal.devServerPort, key: 'temporal.devServerPort', what: 'Temporal gRPC' });
    ports.push({ host: '127.0.0.1', port: config.temporal.uiPort, key: 'temporal.uiPort', what: 'Temporal UI' });
  }
  const supervisor = await runningInstance(context.home);
  const results: CheckResult[] = [];
  for (const { host, port, key, what } of ports) {
    const name = `port ${port}`;
    if (await isPortFree(host, port)) {
      results.push(check(name, 'ok', `free on ${host} (${what}, ${key})`));
      continue;
    }
    const holder = await portHolder(port);
    const ours =
      holder !== undefined && ((supervisor !== undefined && descendsFrom(holder.pid, supervisor)) || (gatewayApiPid !== undefined && holder.pid === gatewayApiPid));
    if (ours) {
      results.push(check(name, 'ok', `in use by the running gateway (${what}: pid ${holder!.pid}${supervisor ? `, supervisor ${supervisor}` : ''})`));
    } else if (holder === undefined && supervisor !== undefined) {
      results.push(check(name, 'warn', `in use on ${host} (${what}); a gateway runs in this home (pid ${supervisor}), but which process holds the port could not be told`));
    } else if (holder === undefined && key === 'gateway.port' && gatewayApiPid !== undefined) {
      results.push(check(name, 'ok', `in use by the gateway answering there (pid ${gatewayApiPid})`));
    } else {
      const who = holder ? `pid ${holder.pid} (${holder.command.slice(0, 120)})` : 'a process doctor cannot see';
      results.push(check(name, 'fail', `${host}:${port} (${what}, ${key}) is held by ${who}`, `stop that process, or choose another port: --set ${key}=<port> or ${key} in switchyard.yaml`));
    }
  }
  return results;
}

/** The service is installed, points at files that exist, and runs. Not installing one is fine. */
export async function checkService(context: DoctorContext, kind: ServiceKind | undefined, name: string, run: CommandRunner): Promise<CheckResult> {
  if (!kind) return check('service', 'skip', `no service manager support on ${process.platform}`);
  const status = await serviceStatus({ kind, name, env: context.env, run });
  if (!status.installed) return check('service', 'warn', `not installed (${status.file}); fine when you run \`switchyard start\` yourself`, 'to start at login and restart after a crash: `switchyard service install`');
  if (status.problems.length > 0) return check('service', 'fail', `${status.file}: ${status.problems.join('; ')}`, 'switchyard service install');
  if (!status.manager.reachable && kind === 'systemd') return check('service', 'warn', `installed at ${status.file}; ${status.manager.detail}`, 'run doctor inside your login session to see whether it runs');
  if (serviceRunning(status)) return check('service', 'ok', `${status.file}: ${status.state}${status.pid ? `, pid ${status.pid}` : ''}${status.enabled ? `, ${status.enabled}` : ''}`);
  const exit = status.lastExitStatus !== undefined && status.lastExitStatus !== 0 ? `, last exit status ${status.lastExitStatus}${status.lastExitStatus === 78 ? ' (configuration refused)' : ''}` : '';
  const logs = kind === 'systemd' ? `journalctl --user -u ${name}.service -e` : `$SWITCHYARD_HOME/logs/service.log`;
  return check('service', 'fail', `installed at ${status.file} but ${status.state ?? 'not running'}${exit}`, `see ${logs}, fix the cause, then ${restartCommand(kind, name)}`);
}
