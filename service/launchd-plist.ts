// The launchd agent of `switchyard service install` (macOS). Pure: ServiceSpec in, XML out.
//
// launchd has no EnvironmentFile: node's own `--env-file` loads the secrets file before
// Switchyard starts (install creates the file, empty, so that node finds it). KeepAlive
// restarts the gateway whenever it exits; launchd cannot exempt an exit code the way systemd's
// RestartPreventExitStatus does, so a refused configuration (exit 78) is retried every
// ThrottleInterval seconds, each attempt failing at once with the reason in the log file.
import { serviceEnvironment, type ServiceSpec } from './spec.js';
import { RESTART_DELAY_SECONDS, STOP_TIMEOUT_SECONDS } from './systemd-unit.js';

function xmlText(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&apos;');
}

const string = (value: string) => `<string>${xmlText(value)}</string>`;

export function launchdPlist(spec: ServiceSpec): string {
  const environment = serviceEnvironment(spec);
  const program = [spec.nodePath, `--env-file=${spec.envFile}`, spec.entryScript, ...spec.args];
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    '<!-- Written by `switchyard service install`; reinstall rather than edit (docs/operations.md). Secrets belong in the env file, never here. -->',
    '<plist version="1.0">',
    '<dict>',
    `  <key>Label</key>`,
    `  ${string(spec.name)}`,
    '  <key>ProgramArguments</key>',
    '  <array>',
    ...program.map((arg) => `    ${string(arg)}`),
    '  </array>',
    '  <key>WorkingDirectory</key>',
    `  ${string(spec.workingDirectory)}`,
    '  <key>EnvironmentVariables</key>',
    '  <dict>',
    ...environment.flatMap(([key, value]) => [`    <key>${xmlText(key)}</key>`, `    ${string(value)}`]),
    '  </dict>',
    '  <key>RunAtLoad</key>',
    '  <true/>',
    '  <key>KeepAlive</key>',
    '  <true/>',
    '  <key>ThrottleInterval</key>',
    `  <integer>${Math.max(RESTART_DELAY_SECONDS, 10)}</integer>`,
    '  <key>ExitTimeOut</key>',
    `  <integer>${STOP_TIMEOUT_SECONDS}</integer>`,
    '  <key>StandardOutPath</key>',
    `  ${string(spec.logFile)}`,
    '  <key>StandardErrorPath</key>',
    `  ${string(spec.logFile)}`,
    '</dict>',
    '</plist>',
    '',
  ];
  return lines.join('\n');
}
