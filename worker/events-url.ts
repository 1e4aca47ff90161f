import { gatewayHost } from '../config/paths.js';
import type { Config } from '../config/schema.js';

/** The API's event intake: `worker.eventsUrl` when set (the API on another host), else the API on this machine. */
export function eventsUrl(config: Config): string {
  if (config.worker.eventsUrl) return config.worker.eventsUrl;
  return `http://${gatewayHost(config)}:${config.gateway.port}/internal/events`;
}

/** Where a turn's Claude hooks post (api/routes/internal-hooks.ts): the same API, as the worker sees it. */
export function hooksUrl(config: Config): string {
  return `http://${gatewayHost(config)}:${config.gateway.port}/internal/hooks`;
}
