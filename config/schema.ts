// The single source of truth for Switchyard's configuration: types, validation,
// defaults, the JSON Schema (`switchyard config schema`) and the docs all come from here.
import { z } from 'zod';
import { DURATION_PATTERN } from './duration.js';

/** Marks a field whose value must never appear in logs, status, errors or `config` output. */
const secret = <T extends z.ZodType>(schema: T) => schema.meta({ secret: true });

export const Duration = z
  .string()
  .regex(DURATION_PATTERN, { message: 'expected a duration such as 500ms, 30s, 10m, 2h or 1d' })
  .describe('A duration: a number followed by ms, s, m, h or d.');

const Identifier = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, { message: 'expected letters, digits, "_", "-" or "." (not starting with a symbol)' });

export const BusyMode = z
  .enum(['queue', 'collect', 'interrupt'])
  .describe('What a message arriving during a turn does: queue (FIFO), collect (merged into the next turn), interrupt (cancels the running turn).');

export const PermissionMode = z.enum(['default', 'acceptEdits', 'bypassPermissions', 'plan', 'dontAsk']);

export const AgentSchema = z.strictObject({
  command: z.string().min(1).default('claude').describe('The Claude CLI to spawn: a path, or a name looked up on PATH, then node_modules/.bin.'),
  model: z.string().min(1).default('sonnet').describe('Passed as --model.'),
  cwd: z.string().min(1).default('.').describe('Working directory of the CLI, relative to the directory the gateway was started in.'),
  permissionMode: PermissionMode.default('default').describe('Passed as --permission-mode.'),
  allowedTools: z.array(z.string()).default([]).describe('Passed as --allowedTools.'),
  disallowedTools: z.array(z.string()).default([]).describe('Passed as --disallowedTools.'),
  appendSystemPrompt: z.string().default('').describe('Passed as --append-system-prompt when not empty.'),
  maxTurns: z.number().int().positive().default(20).describe('Passed as --max-turns: agentic turns per message.'),
  maxBudgetUsd: z.number().positive().optional().describe('Passed as --max-budget-usd.'),
  turnTimeout: Duration.default('10m').describe('Wall-clock limit of one turn, retries included.'),
  busy: BusyMode.default('queue'),
  settingsFile: z.string().optional().describe('Passed as --settings on every turn (resume does not remember it).'),
  mcpConfig: z.array(z.string()).default([]).describe('Files passed as --mcp-config on every turn.'),
  addDirs: z.array(z.string()).default([]).describe('Passed as --add-dir on every turn.'),
  env: z.record(z.string(), z.string()).default({}).describe("Extra environment for the CLI; the gateway's own SWITCHYARD_* secrets are never passed."),
  retry: z
    .strictObject({
      maxAttempts: z.number().int().min(1).max(20).default(4),
      initialInterval: Duration.default('2s'),
      maximumInterval: Duration.default('1m'),
    })
    .prefault({})
    .describe("Temporal's retry of a failed turn (429, 5xx, 529, a crash). The CLI's own retries are turned off so the two never multiply."),
});
export type AgentConfig = z.infer<typeof AgentSchema>;

/**
 * The same field without its default, optional, and (for nested objects) with every field
 * optional too. An override must leave unset fields unset: `.optional()` around a
 * `.default()` still fills the default in zod 4, which would silently replace the value
 * inherited from `agentDefaults`.
 */
function optionalWithoutDefault(field: z.ZodType): z.ZodType {
  const meta = z.globalRegistry.get(field);
  let inner: z.ZodType = field;
  while (inner instanceof z.ZodDefault || inner instanceof z.ZodPrefault || inner instanceof z.ZodOptional) {
    inner = inner.unwrap() as z.ZodType;
  }
  if (inner instanceof z.ZodObject) {
    inner = z.strictObject(
      Object.fromEntries(Object.entries(inner.shape).map(([key, child]) => [key, optionalWithoutDefault(child as z.ZodType)])),
    );
  }
  const optional = inner.optional();
  return meta ? optional.meta(meta) : optional;
}

/** An entry under `agents.<id>`: any agent field, merged over `agentDefaults`. */
export const AgentOverrideSchema = z.strictObject(
  Object.fromEntries(Object.entries(AgentSchema.shape).map(([key, field]) => [key, optionalWithoutDefault(field as z.ZodType)])),
) as unknown as z.ZodType<Partial<z.input<typeof AgentSchema>>>;

export const ConfigSchema = z.strictObject({
  gateway: z
    .strictObject({
      bind: z.string().min(1).default('127.0.0.1').describe('Address the HTTP and WebSocket API binds to. Anything but loopback needs a token.'),
      port: z.number().int().min(0).max(65535).default(8420),
      auth: z
        .strictObject({
          token: secret(z.string().optional()).describe('Bearer token for the API. Defaults to $SWITCHYARD_TOKEN.'),
        })
        .prefault({}),
      internalToken: secret(z.string().optional()).describe(
        'Token the worker uses to publish live events to the API. `switchyard start` generates one per run when unset.',
      ),
      bodyLimit: z.number().int().positive().default(1_048_576).describe('Largest accepted HTTP body, in bytes.'),
    })
    .prefault({}),
  temporal: z
    .strictObject({
      address: z
        .string()
        .regex(/^(embedded|[^\s:[\]]+:\d+|\[[0-9A-Fa-f:.]+\]:\d+)$/, { message: 'expected "embedded" or host:port' })
        .default('embedded')
        .describe('"embedded" runs a Temporal dev server under `switchyard start`; host:port uses an existing server.'),
      namespace: z.string().min(1).default('default'),
      uiPort: z.number().int().min(1).max(65535).default(8233),
      devServerPort: z.number().int().min(1).max(65535).default(7233).describe('gRPC port of the embedded dev server.'),
      dbFile: z.string().optional().describe('SQLite file of the embedded dev server; default $SWITCHYARD_HOME/temporal.sqlite.'),
    })
    .prefault({}),
  worker: z
    .strictObject({
      maxConcurrentTurns: z.number().int().positive().default(4).describe('Claude CLI processes one worker runs at once.'),
      maxTurnsPerRun: z.number().int().positive().default(200).describe('Turns a session workflow run takes before it continues as new.'),
    })
    .prefault({}),
  log: z
    .strictObject({
      level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
    })
    .prefault({}),
  agentDefaults: AgentSchema.prefault({}),
  agents: z.record(Identifier, AgentOverrideSchema).default({ main: {} }).describe('Agents by id; each is merged over agentDefaults. `main` always exists.'),
  webhooks: z.record(Identifier, z.record(z.string(), z.unknown())).default({}).describe('Webhook sources by name.'),
  cron: z.record(Identifier, z.record(z.string(), z.unknown())).default({}).describe('Scheduled jobs by name.'),
  channels: z.record(Identifier, z.record(z.string(), z.unknown())).default({}).describe('Channel adapters by name.'),
});

export type Config = z.infer<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;

/** The fully merged config of one agent: `agents.<id>` over `agentDefaults`. */
export function resolveAgent(config: Config, agentId: string): AgentConfig | undefined {
  const override = config.agents[agentId] ?? (agentId === 'main' ? {} : undefined);
  if (override === undefined) return undefined;
  const merged = {
    ...config.agentDefaults,
    ...override,
    env: { ...config.agentDefaults.env, ...(override.env ?? {}) },
    retry: { ...config.agentDefaults.retry, ...(override.retry ?? {}) },
  };
  return AgentSchema.parse(merged);
}

export function agentIds(config: Config): string[] {
  return [...new Set(['main', ...Object.keys(config.agents)])];
}
