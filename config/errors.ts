// Invalid configuration is a refusal to start, never a crash: one error type that names
// where the bad value came from (file, env var or flag), its dotted path and what was
// expected, and that the CLI turns into exit status 78 (EX_CONFIG from sysexits.h).

/** sysexits.h EX_CONFIG: "something was found in an unconfigured or misconfigured state". */
export const CONFIG_EXIT_CODE = 78;

export interface ConfigIssue {
  /** The file, env var (`SWITCHYARD_GATEWAY__PORT`) or flag (`--port`) that set the bad value. */
  source?: string;
  /** Dotted path in the config, e.g. `gateway.port`; absent for whole-file problems. */
  path?: string;
  /** What was wrong and what was expected. Never contains a secret value. */
  message: string;
}

export function formatIssue(issue: ConfigIssue): string {
  return [issue.source, issue.path, issue.message].filter((part) => part !== undefined && part !== '').join(': ');
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly exitCode = CONFIG_EXIT_CODE;
  readonly issues: ConfigIssue[];

  constructor(issues: ConfigIssue | ConfigIssue[], options?: { cause?: unknown }) {
    const list = Array.isArray(issues) ? issues : [issues];
    super(list.map(formatIssue).join('\n'), options);
    this.issues = list;
  }
}

export function isConfigError(error: unknown): error is ConfigError {
  return error instanceof ConfigError;
}
