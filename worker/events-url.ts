import { gatewayHost } from '../config/paths.js';
import type { Config } from '../config/schema.js';

/** The API's event intake: `worker.eventsUrl` when set (the API on another host), else the API on this machine. */
export function eventsUrl(config: Config): string {
  if (config.worker.eventsUrl) return config.worker.eventsUrl;
  return `http://${gatewayHost(config)}:${config.gateway.port}/internal/events`;
}
