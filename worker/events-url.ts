import { gatewayHost } from '../config/paths.js';
import type { Config } from '../config/schema.js';

/** The API's event intake as seen from a worker on the same machine. */
export function eventsUrl(config: Config): string {
  return `http://${gatewayHost(config)}:${config.gateway.port}/internal/events`;
}

/** Where a turn's Claude hooks post (api/routes/internal-hooks.ts): the same API, as the worker sees it. */
export function hooksUrl(config: Config): string {
  return `http://${gatewayHost(config)}:${config.gateway.port}/internal/hooks`;
}
