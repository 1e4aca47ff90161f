// The worker process's Temporal Runtime (one per process): its log lines go to pino, and,
// when `observability.temporalMetrics.prometheusAddress` is set, the SDK serves its own
// metrics (temporal_*) there at /metrics (docs/observability.md lists them).
import { Runtime, type RuntimeOptions } from '@temporalio/worker';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { PinoSdkLogger, sdkLevelFor } from '../observability/temporal-logger.js';

export function workerRuntimeOptions(config: Config, logger: Logger): RuntimeOptions {
  const sdkLevel = sdkLevelFor(config.log.level);
  const prometheusAddress = config.observability.temporalMetrics.prometheusAddress;
  return {
    logger: new PinoSdkLogger(logger, sdkLevel),
    telemetryOptions: {
      // The SDK core's own lines too, as JSON through the same logger.
      logging: { filter: { core: sdkLevel, other: 'ERROR' }, forward: {} },
      ...(prometheusAddress ? { metrics: { prometheus: { bindAddress: prometheusAddress } } } : {}),
    },
  };
}

export function installWorkerRuntime(config: Config, logger: Logger): Runtime {
  return Runtime.install(workerRuntimeOptions(config, logger));
}
