// config.get: the resolved config, secrets redacted (as `switchyard config` prints it).
import { z } from 'zod';
import { redactConfig } from '../../../config/redact.js';
import { defineMethod } from '../method.js';
import { RpcError } from '../protocol.js';

export const configMethods = [
  defineMethod({
    name: 'config.get',
    description:
      'The configuration this API process runs with, every secret replaced by "[redacted]". With `path` (dotted, e.g. `gateway.rpc`), only that part.',
    params: z.strictObject({
      path: z
        .string()
        .regex(/^[^.]+(\.[^.]+)*$/, { message: 'expected a dotted path such as gateway.rpc' })
        .optional()
        .describe('A dotted path into the config, e.g. gateway.port or agents.main.'),
    }),
    result: z.object({ path: z.string().optional(), config: z.unknown() }),
    example: { path: 'gateway' },
    handler: ({ path }, { services }) => {
      const redacted = redactConfig(services.config);
      if (path === undefined) return { config: redacted };
      let value: unknown = redacted;
      for (const segment of path.split('.')) {
        if (value === null || typeof value !== 'object' || !Object.hasOwn(value, segment)) {
          throw new RpcError(-32602, `Invalid params: params.path: no config value at ${path}`, {
            issues: [{ path: ['path'], message: `no config value at ${path}` }],
          });
        }
        value = (value as Record<string, unknown>)[segment];
      }
      return { path, config: value };
    },
  }),
] as const;
