// The systemd user unit of `switchyard service install` (Linux). Pure: ServiceSpec in, text out.
//
// Restart=always keeps the gateway up through crashes and clean exits alike;
// RestartPreventExitStatus=78 is the exception: 78 (EX_CONFIG, supervisor/child-process.ts
// EXIT_CONFIG_ERROR) means the configuration was refused, which no restart can fix. Secrets
// come from EnvironmentFile= (the "-" lets the unit start without it); the unit itself holds
// only non-secret variables. KillMode=mixed sends SIGTERM to the supervisor alone, which stops
// the API, drains the worker and stops Temporal in that order; whatever is left when
// TimeoutStopSec runs out gets SIGKILL.
import { EXIT_CONFIG_ERROR } from '../supervisor/child-process.js';
import { serviceEnvironment, type ServiceSpec } from './spec.js';

/** Longest graceful stop of the supervisor (API 5 s + worker 30 s + Temporal 10 s), with room. */
export const STOP_TIMEOUT_SECONDS = 60;
export const RESTART_DELAY_SECONDS = 5;

/** `%` starts a specifier in every unit setting. */
function escapeSpecifiers(text: string): string {
  return text.replaceAll('%', '%%');
}

/** One word of ExecStart: quoted when needed, `$` kept literal (no variable expansion). */
export function execWord(word: string): string {
  const literal = escapeSpecifiers(word).replaceAll('$', '$$$$');
  if (literal !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(literal)) return literal;
  return `"${literal.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

/** `Environment="KEY=value"`, quoted so that spaces and quotes survive. */
function environmentLine(key: string, value: string): string {
  const assignment = escapeSpecifiers(`${key}=${value}`).replaceAll('\\', '\\\\').replaceAll('"', '\\"');
  return `Environment="${assignment}"`;
}

export function systemdUnit(spec: ServiceSpec): string {
  const environment = serviceEnvironment(spec);
  const exec = [spec.nodePath, spec.entryScript, ...spec.args].map(execWord).join(' ');
  return [
    '# Written by `switchyard service install`; reinstall rather than edit (docs/operations.md).',
    '# Secrets (ANTHROPIC_API_KEY, SWITCHYARD_TOKEN, ...) belong in the EnvironmentFile, never here.',
    '[Unit]',
    'Description=Switchyard: durable gateway for Claude Code agents',
    '',
    '[Service]',
    'Type=simple',
    `WorkingDirectory=${escapeSpecifiers(spec.workingDirectory)}`,
    ...environment.map(([key, value]) => environmentLine(key, value)),
    `EnvironmentFile=-${escapeSpecifiers(spec.envFile)}`,
    `ExecStart=${exec}`,
    'Restart=always',
    `RestartSec=${RESTART_DELAY_SECONDS}`,
    `# ${EXIT_CONFIG_ERROR}: the configuration was refused; restarting cannot fix it.`,
    `RestartPreventExitStatus=${EXIT_CONFIG_ERROR}`,
    'KillMode=mixed',
    `TimeoutStopSec=${STOP_TIMEOUT_SECONDS}`,
    '',
    '[Install]',
    'WantedBy=default.target',
    '',
  ].join('\n');
}
