// pino, JSON to stdout. Known secret fields are redacted by path, and every configured
// secret value is scrubbed from messages and strings, wherever it turns up.
import { pino, type Logger } from 'pino';

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

export function createLogger(options: { name: string; level?: string; secrets?: string[] }): Logger {
  const secrets = (options.secrets ?? []).filter((s) => s.length >= 4);
  const scrub = (text: string) => secrets.reduce((out, secret) => out.split(secret).join('[redacted]'), text);
  return pino({
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
    formatters: secrets.length === 0 ? {} : { log: (object) => JSON.parse(scrub(JSON.stringify(object))) as Record<string, unknown> },
  });
}
