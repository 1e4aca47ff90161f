// The errors of cron operations, each with a code the RPC layer and the CLI map to an answer.
export type CronErrorCode =
  /** No job of that name. */
  | 'not_found'
  /** A job (or some other schedule) of that name exists already. */
  | 'exists'
  /** The definition is wrong (bad time, unknown agent, ...). */
  | 'invalid'
  /** The job is declared in config: change the config instead (it is reconciled at every start). */
  | 'config_owned'
  /** `cron:<name>` exists but Switchyard did not create it. */
  | 'foreign'
  /** The operation does not apply to this kind of job (pausing a one-shot). */
  | 'unsupported';

export class CronError extends Error {
  override readonly name = 'CronError';
  constructor(
    readonly code: CronErrorCode,
    message: string,
    readonly job?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isCronError(error: unknown): error is CronError {
  return error instanceof CronError;
}

/** Issues of a validation error (zod's shape: path and message), when it has them. */
export function validationIssues(error: unknown): { path: (string | number)[]; message: string }[] | undefined {
  const issues = (error as { issues?: unknown })?.issues;
  if (!Array.isArray(issues)) return undefined;
  return issues.map((issue: { path?: PropertyKey[]; message?: string }) => ({
    path: (issue.path ?? []).map((segment) => (typeof segment === 'number' ? segment : String(segment))),
    message: String(issue.message ?? 'invalid'),
  }));
}
