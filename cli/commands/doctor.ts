// `switchyard doctor`: is everything in place for the gateway to run? Config, the `temporal`
// and `claude` binaries, Temporal, workers, agent credentials, ports, the service. Each failed
// check says how to fix it. Secrets are never printed.
//
// Exit status: 0 no check failed (warnings allowed), 1 a check failed.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import util from 'node:util';
import { Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import { switchyardHome } from '../../config/paths.js';
import { looksSecretKey, REDACTED, secretValues } from '../../config/redact.js';
import { DEFAULT_SERVICE_NAME, ENV_FILE_NAME, runCommand, serviceKind } from '../../service/manager.js';
import { projectRoot } from '../../supervisor/temporal-binary.js';
// Types only: the checks load the Temporal client and the supervisor, which building the
// command (for `--help`, or every command's in `switchyard --help`) need not pay for.
import type { CheckResult, DoctorContext } from '../doctor/checks.js';
import { defaultRpcUrl } from './call.js';
import { addConfigFlagOptions, configFlagOptions, flagLayerFromOptions } from './config.js';

export const DOCTOR_EXIT = { ok: 0, failed: 1 } as const;

interface DoctorOptions {
  url?: string;
  token?: string;
  json?: boolean;
  envFile?: string;
  serviceName: string;
  timeout: string;
}

export interface DoctorCommandIO {
  writeOut?: (text: string) => void;
}

/**
 * KEY=VALUE lines as node's own `--env-file` reads them (util.parseEnv, node >= 20.12); on an
 * older node, the plain subset: comments, `export`, surrounding quotes.
 */
export function parseEnvFile(text: string): Record<string, string> {
  const native = (util as { parseEnv?: (content: string) => NodeJS.Dict<string> }).parseEnv;
  if (native) return Object.fromEntries(Object.entries(native(text)).filter((entry): entry is [string, string] => entry[1] !== undefined));
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (!match) continue;
    const value = match[2]!;
    out[match[1]!] = /^(["']).*\1$/.test(value) ? value.slice(1, -1) : value.replace(/\s+#.*$/, '');
  }
  return out;
}

/** Replaces every secret value (from the config and secret-looking variables) with "[redacted]". */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret.length >= 4) out = out.replaceAll(secret, REDACTED);
  return out;
}

const LABEL = { ok: 'ok', warn: 'warn', fail: 'FAIL', skip: 'skip' } as const;

export function renderChecks(results: readonly CheckResult[]): string {
  const width = Math.max(...results.map((result) => result.name.length));
  const lines: string[] = [];
  for (const result of results) {
    lines.push(`${LABEL[result.status].padEnd(5)} ${result.name.padEnd(width)}  ${result.detail}`);
    if (result.fix) lines.push(`${' '.repeat(6 + width)}  fix: ${result.fix}`);
  }
  const failed = results.filter((result) => result.status === 'fail').length;
  const warned = results.filter((result) => result.status === 'warn').length;
  lines.push('', failed === 0 ? `all checks passed${warned ? ` (${warned} warning${warned === 1 ? '' : 's'})` : ''}` : `${failed} check${failed === 1 ? '' : 's'} failed`);
  return `${lines.join('\n')}\n`;
}

export function doctorCommand(io: DoctorCommandIO = {}): Command {
  const out = io.writeOut ?? ((text: string) => process.stdout.write(text));
  const command = new Command('doctor')
    .description('check config, the temporal and claude binaries, Temporal, workers, agent credentials, ports and the service; say how to fix what fails')
    .option('--url <url>', "the gateway's WebSocket URL (default: ws://<gateway.bind>:<gateway.port>/rpc from the config)")
    .option('--token <token>', 'bearer token (default: $SWITCHYARD_TOKEN, else gateway.auth.token from the config)')
    .option('--env-file <path>', `variables the gateway gets besides this shell's (default $SWITCHYARD_HOME/${ENV_FILE_NAME}, the service's, when it exists)`)
    .option('--service-name <name>', 'the service to check', DEFAULT_SERVICE_NAME)
    .option('--timeout <ms>', 'longest wait of each network check', '5000')
    .option('--json', 'print one line of JSON: { ok, checks: [{ name, status, ok, detail, fix }] }')
    .addHelpText('after', '\nExit status: 0 no check failed (warnings allowed), 1 a check failed.');
  addConfigFlagOptions(command);
  command.action(async (options: DoctorOptions, self: Command) => {
    const { check, checkClaudeCli, checkConfig, checkCredentials, checkGatewayApi, checkPorts, checkService, checkTemporal, checkTemporalCli } = await import(
      '../doctor/checks.js'
    );
    const envFile = path.resolve(options.envFile ?? path.join(switchyardHome(process.env), ENV_FILE_NAME));
    const env: NodeJS.ProcessEnv = { ...process.env };
    const results: CheckResult[] = [];
    if (existsSync(envFile)) {
      try {
        const vars = parseEnvFile(readFileSync(envFile, 'utf8'));
        Object.assign(env, vars);
        results.push(check('env file', 'ok', `${envFile}: ${Object.keys(vars).length} variable${Object.keys(vars).length === 1 ? '' : 's'} (${Object.keys(vars).sort().join(', ') || 'none'})`));
      } catch (error) {
        results.push(check('env file', 'fail', `${envFile}: ${(error as Error).message}`, 'make it readable: KEY=VALUE lines, # comments'));
      }
    } else if (options.envFile !== undefined) {
      results.push(check('env file', 'fail', `${envFile} does not exist`, 'create it (KEY=VALUE lines), or leave out --env-file'));
    }

    const { flags, flagSources } = flagLayerFromOptions(configFlagOptions(self));
    const configured = checkConfig(() => loadConfig({ env, flags, flagSources }));
    results.push(configured.result);
    const secrets = new Set<string>();
    for (const [key, value] of Object.entries(env)) if (value && looksSecretKey(key)) secrets.add(value);
    if (options.token) secrets.add(options.token);

    if (configured.loaded) {
      const { config } = configured.loaded;
      for (const value of secretValues(config)) secrets.add(value);
      const timeoutMs = Number(options.timeout) > 0 ? Number(options.timeout) : 5000;
      const context: DoctorContext = { config, env, cwd: process.cwd(), home: switchyardHome(env), root: projectRoot(), timeoutMs };
      const target = { url: options.url ?? defaultRpcUrl(config), token: options.token ?? config.gateway.auth.token };
      // Independent checks run side by side; the report keeps a fixed order.
      const [temporalCli, claudeCli, credentials, gateway, temporal] = await Promise.all([
        checkTemporalCli(context),
        checkClaudeCli(context),
        checkCredentials(context),
        checkGatewayApi(context, target),
        checkTemporal(context),
      ]);
      const [ports, service] = await Promise.all([checkPorts(context, gateway.pid), checkService(context, serviceKind(), options.serviceName, runCommand)]);
      results.push(temporalCli, ...claudeCli, ...credentials, gateway.result, ...temporal, ...ports, service);
    }

    const failed = results.some((result) => result.status === 'fail');
    const text = options.json ? `${JSON.stringify({ ok: !failed, checks: results })}\n` : renderChecks(results);
    out(scrub(text, [...secrets].sort((a, b) => b.length - a.length)));
    process.exitCode = failed ? DOCTOR_EXIT.failed : DOCTOR_EXIT.ok;
  });
  return command;
}
