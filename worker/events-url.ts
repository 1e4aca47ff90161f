import type { Config } from '../config/schema.js';

/** The API's event intake as seen from a worker on the same machine. */
export function eventsUrl(config: Config): string {
  const bind = config.gateway.bind;
  const host = bind === '0.0.0.0' || bind === '::' ? '127.0.0.1' : bind.includes(':') ? `[${bind}]` : bind;
  return `http://${host}:${config.gateway.port}/internal/events`;
}
