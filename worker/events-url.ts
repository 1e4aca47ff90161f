import { gatewayHost } from '../config/paths.js';
import type { Config } from '../config/schema.js';

/** The API's event intake as seen from a worker on the same machine. */
export function eventsUrl(config: Config): string {
  return `http://${gatewayHost(config)}:${config.gateway.port}/internal/events`;
}
