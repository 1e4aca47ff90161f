// pino, JSON to stdout. Known secret fields are redacted by path, and every configured
// secret value is scrubbed from messages and strings, wherever it turns up.
import { pino, type DestinationStream, type Logger } from 'pino';

const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-hub-signature-256"]',
  'req.headers["stripe-signature"]',
  'req.headers["x-slack-signature"]',
  'req.headers["webhook-signature"]',
  'req.headers["sec-websocket-protocol"]',
  '*.token',
  '*.secret',
  '*.internalToken',
  '*.password',
];

export function createLogger(options: { name: string; level?: string; secrets?: string[]; destination?: DestinationStream }): Logger {
  const secrets = (options.secrets ?? []).filter((s) => s.length >= 4);
  const scrub = (text: string) => secrets.reduce((out, secret) => out.split(secret).join('[redacted]'), text);
  return pino(
    {
    name: options.name,
    level: options.level ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    hooks: {
      logMethod(args, method) {
        method.apply(
          this,
          (secrets.length === 0 ? args : args.map((arg) => (typeof arg === 'string' ? scrub(arg) : arg))) as Parameters<typeof method>,
        );
      },
    },
    formatters: secrets.length === 0 ? {} : { log: (object) => scrubDeep(object, scrub, 0) as Record<string, unknown> },
    },
    options.destination,
  );
}

/** Replaces secrets in the strings of plain objects and arrays; other objects (sockets, requests) are left to pino's serializers. */
function scrubDeep(value: unknown, scrub: (text: string) => string, depth: number): unknown {
  if (typeof value === 'string') return scrub(value);
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => scrubDeep(item, scrub, depth + 1));
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, scrubDeep(item, scrub, depth + 1)]));
}
