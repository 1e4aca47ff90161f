// gateway.*: is the API up, and how is it doing. Nothing secret is ever returned.
import { z } from 'zod';
import { temporalAddress } from '../../../config/paths.js';
import { defineMethod } from '../method.js';

const NoParams = z.strictObject({});

const Check = z.object({ ok: z.boolean(), detail: z.string() });

export const gatewayMethods = [
  defineMethod({
    name: 'gateway.health',
    description: 'Answers while the API process lives, without asking Temporal (like GET /healthz). The cheapest call: use it as an application-level ping.',
    params: NoParams,
    result: z.object({ ok: z.literal(true), ts: z.number().describe('Server time, milliseconds since the epoch.') }),
    example: {},
    scopes: ['operator', 'adapter'],
    handler: () => ({ ok: true as const, ts: Date.now() }),
  }),
  defineMethod({
    name: 'gateway.status',
    description:
      'Version, uptime, whether Temporal is reachable and a worker polls (the checks of GET /readyz), and this API process\'s open RPC connections and subscriptions.',
    params: NoParams,
    result: z.object({
      version: z.string(),
      node: z.string(),
      pid: z.number().int(),
      startedAt: z.number().describe('Milliseconds since the epoch.'),
      uptimeMs: z.number(),
      ready: z.boolean(),
      temporal: z.object({ address: z.string(), namespace: z.string(), reachable: z.boolean(), detail: z.string() }),
      checks: z.object({ temporal: Check, worker: Check, channels: Check }),
      rpc: z.object({ connections: z.number().int(), subscriptions: z.number().int() }),
    }),
    example: {},
    handler: async (_params, { services }) => {
      const readiness = await services.readiness();
      const { connections, subscriptions } = services.stats();
      return {
        version: services.version,
        node: process.version,
        pid: process.pid,
        startedAt: services.startedAt,
        uptimeMs: Date.now() - services.startedAt,
        ready: readiness.ready,
        temporal: {
          address: temporalAddress(services.config),
          namespace: services.config.temporal.namespace,
          reachable: readiness.checks.temporal.ok,
          detail: readiness.checks.temporal.detail,
        },
        checks: readiness.checks,
        rpc: { connections, subscriptions },
      };
    },
  }),
] as const;
