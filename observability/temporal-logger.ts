// The Temporal SDK's Runtime logger, written to pino: workflow log lines (`log` from
// @temporalio/workflow, through the SDK's logger sink), activity log lines
// (`Context.current().log`) and the SDK's own lines become the worker's JSON log, with their
// attributes (workflowId, runId, activityType, requestId, ...) as fields.
import type { LogLevel, LogMetadata, Logger as SdkLogger } from '@temporalio/common';
import type { Logger } from 'pino';

const PINO_LEVEL: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};
const RANK: Record<LogLevel, number> = { TRACE: 0, DEBUG: 1, INFO: 2, WARN: 3, ERROR: 4 };
/** Lines from our own code (workflow, activity); everything else is the SDK talking about itself. */
const USER_COMPONENTS = new Set(['workflow', 'activity', 'nexus']);

export class PinoSdkLogger implements SdkLogger {
  private readonly sdkMinimum: number;

  /**
   * `sdkLevel`: the least level of the SDK's own lines (worker state changes, polls, core):
   * WARN by default, since at INFO they would drown the turns' lines. Workflow and activity
   * lines follow the pino logger's level.
   */
  constructor(
    private readonly logger: Logger,
    sdkLevel: LogLevel = 'WARN',
  ) {
    this.sdkMinimum = RANK[sdkLevel];
  }

  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    const component = typeof meta?.sdkComponent === 'string' ? meta.sdkComponent : undefined;
    if (!(component && USER_COMPONENTS.has(component)) && RANK[level] < this.sdkMinimum) return;
    const fields: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(meta ?? {})) {
      // pino serializes errors under `err` only.
      fields[key === 'error' && value instanceof Error ? 'err' : key] = value;
    }
    this.logger[PINO_LEVEL[level]](fields, message);
  }

  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }
}

/** The SDK's own lines: WARN and above, unless the gateway logs at debug or trace. */
export function sdkLevelFor(level: string): LogLevel {
  return level === 'trace' ? 'TRACE' : level === 'debug' ? 'DEBUG' : 'WARN';
}
