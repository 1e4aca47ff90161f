// The single source of truth for Switchyard's configuration: types, validation,
// defaults, the JSON Schema (`switchyard config schema`) and the docs all come from here.
import { z } from 'zod';
import { standardWebhooksKey } from '../api/webhooks/signatures.js';
import { parsePath, templateProblem } from '../api/webhooks/template.js';
import { DURATION_PATTERN } from './duration.js';
import { CronJobSchema, checkCronJobs } from './cron-schema.js';
import { DEFAULT_HOOK_EVENTS, HOOK_EVENTS, TOOL_HOOK_EVENTS } from '../claude-hooks/settings-file.js';
import { parseToolRule } from '../claude-hooks/tool-policy.js';
import { ChannelsSchema, checkChannelAgents } from './channel-schema.js';

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

const ToolRuleSchema = z.string().superRefine((rule, ctx) => {
  try {
    parseToolRule(rule);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
  }
});

export const ToolPolicySchema = z.strictObject({
  deny: z
    .array(ToolRuleSchema)
    .default([])
    .describe('Rules like Claude Code permission rules: Bash, Bash(rm:*), Bash(git push --force*), Write(/etc/**), WebFetch(domain:example.com), mcp__server.'),
});

export const AgentSchema = z.strictObject({
  command: z.string().min(1).default('claude').describe('The Claude CLI to spawn: a path, or a name looked up on PATH, then node_modules/.bin.'),
  model: z.string().min(1).default('sonnet').describe('Passed as --model.'),
  cwd: z.string().min(1).default('.').describe('Working directory of the CLI, relative to the directory the gateway was started in.'),
  permissionMode: PermissionMode.default('default').describe('Passed as --permission-mode.'),
  allowedTools: z.array(z.string()).default([]).describe('Passed as --allowedTools.'),
  disallowedTools: z.array(z.string()).default([]).describe('Passed as --disallowedTools.'),
  toolPolicy: ToolPolicySchema.prefault({}).describe(
    "Tool calls the gateway refuses, enforced through the turn's PreToolUse hook (docs/hooks.md). An agent's deny rules add to agentDefaults'.",
  ),
  hookEvents: z
    .array(z.enum(HOOK_EVENTS))
    .default([...DEFAULT_HOOK_EVENTS])
    .describe(
      `The Claude Code hook events the turn posts to the gateway as turn.hook events (docs/hooks.md). Default: none, since a settings file makes every turn's CLI start 110 to 150 ms later; the usual choice is ${TOOL_HOOK_EVENTS.join(', ')}. UserPromptSubmit, Stop, SubagentStop and SessionEnd fire on every turn and cost it a further 45 to 90 ms each. An agent with toolPolicy deny rules always gets PreToolUse, where they are enforced.`,
    ),
  appendSystemPrompt: z.string().default('').describe('Passed as --append-system-prompt when not empty.'),
  maxTurns: z.number().int().positive().default(20).describe('Passed as --max-turns: agentic turns per message.'),
  maxBudgetUsd: z.number().positive().optional().describe('Passed as --max-budget-usd.'),
  turnTimeout: Duration.default('10m').describe('Wall-clock limit of one turn, retries included.'),
  stallTimeout: Duration.default('2m').describe(
    'Longest the CLI may write nothing while it waits on the model; then it is stopped and the attempt retried (AgentStalled). Paused while a tool runs: tools are bounded by their own timeouts and turnTimeout.',
  ),
  busy: BusyMode.default('queue'),
  slashCommands: z
    .boolean()
    .default(false)
    .describe(
      'Let a prompt that starts with "/" run a Claude Code slash command (/compact, /clear, skills). Off, such a prompt reaches the model as text, so that a webhook payload cannot run commands.',
    ),
  settingsFile: z.string().optional().describe('Passed as --settings on every turn (resume does not remember it).'),
  mcpConfig: z.array(z.string()).default([]).describe('Files passed as --mcp-config on every turn.'),
  gatewayTools: z
    .boolean()
    .default(false)
    .describe(
      "Give the agent the gateway's own tools (the `switchyard mcp` server, docs/mcp.md): send to and read any session, add, pause and run cron jobs, restart channels, with the gateway's token. Allowed without asking (`mcp__switchyard`).",
    ),
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

// ---------------------------------------------------------------------------------------
// Webhook sources: `webhooks.<source>`, served at POST /hooks/<source> (docs/webhooks.md).
// Fields have no schema defaults, so that `switchyard config` shows what was written; the
// defaults named in the descriptions are applied by api/webhooks/source.ts.

const HeaderName = z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, { message: 'expected an HTTP header name' });

export const WEBHOOK_VERIFY_TYPES = ['bearer', 'github', 'stripe', 'slack', 'standard-webhooks', 'hmac'] as const;
/** Schemes that sign a timestamp, and so take `tolerance`. */
const TIMESTAMPED_TYPES = new Set(['stripe', 'slack', 'standard-webhooks']);
const HMAC_ONLY_FIELDS = ['algorithm', 'encoding', 'prefix', 'timestampHeader', 'signedPayload'] as const;

const WebhookVerifyObject = z.strictObject({
  type: z.enum(WEBHOOK_VERIFY_TYPES).describe('The signature scheme: bearer, github, stripe, slack, standard-webhooks or hmac (generic).'),
  secret: secret(z.string().min(1).optional()).describe('The shared secret (for bearer: the token). Use ${VAR} to keep it out of the file.'),
  secrets: secret(z.array(z.string().min(1)).min(1).max(16).optional()).describe('Several secrets, any of which is accepted (rotation). May be combined with `secret`.'),
  header: HeaderName.optional().describe('bearer: the header holding the token (default Authorization, as "Bearer <token>"; any other header holds the bare token). hmac: the header holding the signature (required).'),
  algorithm: z.enum(['sha1', 'sha256', 'sha512']).optional().describe('hmac: the HMAC hash. Default sha256.'),
  encoding: z.enum(['hex', 'base64']).optional().describe('hmac: how the signature is written. Default hex.'),
  prefix: z.string().max(64).optional().describe('hmac: text before the signature in the header, e.g. "sha256=". Default none.'),
  timestampHeader: HeaderName.optional().describe('hmac: a header holding the unix time that is signed with the body and checked against `tolerance`.'),
  signedPayload: z
    .string()
    .max(256)
    .optional()
    .describe('hmac: what is signed, with {body} and {timestamp} placeholders. Default "{body}", or "{timestamp}.{body}" with a timestampHeader.'),
  tolerance: Duration.optional().describe('How far the signed timestamp may be from now (stripe, slack, standard-webhooks, hmac with timestampHeader). Default 5m.'),
});
export type WebhookVerifyConfig = z.infer<typeof WebhookVerifyObject>;

const WebhookVerify = z.union([z.literal('none'), WebhookVerifyObject], {
  error: (issue) => {
    const inner = (issue as { errors?: { path?: PropertyKey[]; message?: string }[][] }).errors?.[1]?.[0];
    const detail = inner?.message ? `; ${[...(inner.path ?? []).map(String), ''].join('.')}${inner.message.replace(/^Invalid (?:input|option): /, '')}` : '';
    return `expected "none" or a mapping with type (${WEBHOOK_VERIFY_TYPES.join(', ')})${detail}`;
  },
}).describe(
  'How requests prove they come from the sender: a mapping of type, secret, secrets, header, algorithm, encoding, prefix, timestampHeader, signedPayload and tolerance (docs/webhooks.md), or "none" (no check). Default: the gateway token as a bearer token (no check when no token is set, as for /hooks/agent).',
);

const FilterValue = z.union([z.string(), z.number(), z.boolean(), z.null()]);
export const WebhookFilterRule = z.strictObject({
  header: HeaderName.optional().describe('The request header the rule tests.'),
  body: z.string().min(1).max(512).optional().describe('A path into the body the rule tests: action, pull_request.draft, items[0].id.'),
  in: z.array(FilterValue).min(1).max(256).optional().describe('Matches when the value is one of these.'),
  notIn: z.array(FilterValue).min(1).max(256).optional().describe('Matches when the value is none of these.'),
  equals: FilterValue.optional().describe('Matches when the value is this.'),
  exists: z.boolean().optional().describe('true: matches when the value is present; false: when it is absent.'),
});
export type WebhookFilterRuleConfig = z.infer<typeof WebhookFilterRule>;
const RULE_CONDITIONS = ['in', 'notIn', 'equals', 'exists'] as const;

export const WebhookSourceSchema = z
  .strictObject({
    enabled: z.boolean().optional().describe('false answers 404 as if the source did not exist. Default true.'),
    verify: WebhookVerify.optional(),
    dedupeKey: z
      .string()
      .min(1)
      .max(1024)
      .optional()
      .describe(
        'Where the delivery id comes from: header.<name>, body.<path>, a {{template}}, or "none". Default: the scheme\'s own (X-GitHub-Delivery, Stripe event id, Slack event_id, webhook-id), else the Idempotency-Key header.',
      ),
    agent: z.string().min(1).max(1024).optional().describe('Template of the agent id. Default "main".'),
    session: z
      .string()
      .min(1)
      .max(4096)
      .optional()
      .describe('Template of the session: a scope (agent:<agent>:<scope>) or a whole agent:<id>:<scope> key. Default the source name.'),
    prompt: z.string().min(1).max(65_536).optional().describe('Template of the message the agent gets. Default: the source name and the body as JSON.'),
    filters: z
      .strictObject({
        when: z.array(WebhookFilterRule).max(64).optional().describe('Every rule must match, or the delivery is ignored (204).'),
        ignore: z.array(WebhookFilterRule).max(64).optional().describe('A delivery matching any rule is ignored (204).'),
      })
      .optional()
      .describe('Deliveries to acknowledge with 204 and not run: rules of one field (header or body) and one test (in, notIn, equals, exists).'),
    mode: z.enum(['async', 'sync']).optional().describe('async: 202 once Temporal holds the message; sync: wait for the answer up to timeoutMs. Default async.'),
    timeoutMs: z.number().int().min(1).max(3_600_000).optional().describe('sync: how long to wait for the answer before 504. Default 120000.'),
    deliver: z
      .strictObject({
        url: z.string().max(2048).regex(/^https?:\/\/\S+$/, { message: 'expected an http:// or https:// URL' }).describe('Where the turn result is POSTed.'),
        secret: secret(z.string().min(1)).describe('Standard Webhooks signing secret: whsec_ followed by base64 (at least 16 bytes).'),
      })
      .optional()
      .describe('POST each turn result to this URL, signed with Standard Webhooks headers, retried for up to 24 h.'),
    rateLimit: z
      .strictObject({
        requestsPerSecond: z.number().positive().max(1_000_000).describe('Sustained deliveries per second accepted from this source.'),
        burst: z.number().int().positive().max(1_000_000).optional().describe('Deliveries accepted at once before the sustained rate applies. Default: requestsPerSecond rounded up.'),
      })
      .optional()
      .describe('Token bucket for the source; over it the answer is 429 with Retry-After. Default: no limit.'),
    bodyLimit: z.number().int().positive().optional().describe('Largest body for this source, in bytes (413 above it). Default gateway.bodyLimit.'),
  })
  .superRefine(checkWebhookSource);
export type WebhookSourceConfig = z.infer<typeof WebhookSourceSchema>;

function checkWebhookSource(source: WebhookSourceConfig, ctx: z.RefinementCtx): void {
  const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });
  for (const field of ['agent', 'session', 'prompt'] as const) {
    const text = source[field];
    const problem = text === undefined ? undefined : templateProblem(text);
    if (problem) issue([field], `invalid template: ${problem}`);
  }
  if (source.dedupeKey !== undefined && source.dedupeKey !== 'none') {
    const problem = source.dedupeKey.includes('{{') ? templateProblem(source.dedupeKey) : pathProblem(source.dedupeKey, true);
    if (problem) issue(['dedupeKey'], `expected header.<name>, body.<path>, a {{template}} or "none": ${problem}`);
  }
  for (const list of ['when', 'ignore'] as const) {
    source.filters?.[list]?.forEach((rule, index) => {
      const at = ['filters', list, index];
      const fields = (['header', 'body'] as const).filter((key) => rule[key] !== undefined);
      if (fields.length !== 1) issue(at, 'expected exactly one of header or body');
      const conditions = RULE_CONDITIONS.filter((key) => rule[key] !== undefined);
      if (conditions.length !== 1) issue(at, `expected exactly one of ${RULE_CONDITIONS.join(', ')}`);
      if (rule.body !== undefined) {
        const problem = pathProblem(`body${rule.body.startsWith('[') ? '' : '.'}${rule.body}`, false);
        if (problem) issue([...at, 'body'], `expected a path such as action or pull_request.draft: ${problem}`);
      }
    });
  }
  if (source.deliver) {
    if (!isStandardWebhooksSecret(source.deliver.secret)) issue(['deliver', 'secret'], 'expected whsec_ followed by base64 of at least 16 bytes');
    try {
      new URL(source.deliver.url);
    } catch {
      issue(['deliver', 'url'], 'expected a URL');
    }
  }
  const verify = source.verify;
  if (verify === undefined || verify === 'none') return;
  const at = (key: string) => ['verify', key];
  const secrets = [...(verify.secret === undefined ? [] : [verify.secret]), ...(verify.secrets ?? [])];
  if (verify.type !== 'bearer' && secrets.length === 0) issue(at('secret'), `missing: type ${verify.type} needs secret or secrets`);
  if (verify.type === 'standard-webhooks') {
    (verify.secret === undefined ? [] : [['secret']] as (string | number)[][])
      .concat((verify.secrets ?? []).map((_, index) => ['secrets', index]))
      .forEach((path) => {
        const value = path[0] === 'secret' ? verify.secret! : verify.secrets![path[1] as number]!;
        if (!isStandardWebhooksSecret(value)) issue(['verify', ...path], 'expected whsec_ followed by base64 of at least 16 bytes');
      });
  }
  if (verify.header !== undefined && verify.type !== 'bearer' && verify.type !== 'hmac') issue(at('header'), 'only for type bearer or hmac');
  if (verify.type === 'hmac') {
    if (verify.header === undefined) issue(at('header'), 'missing: type hmac needs the header that holds the signature');
    if (verify.signedPayload !== undefined) {
      if (verify.signedPayload.split('{body}').length !== 2) issue(at('signedPayload'), 'expected {body} exactly once');
      if (verify.signedPayload.includes('{timestamp}') && verify.timestampHeader === undefined) issue(at('signedPayload'), '{timestamp} needs timestampHeader');
    }
  } else {
    for (const key of HMAC_ONLY_FIELDS) if (verify[key] !== undefined) issue(at(key), 'only for type hmac');
  }
  const timestamped = TIMESTAMPED_TYPES.has(verify.type) || (verify.type === 'hmac' && verify.timestampHeader !== undefined);
  if (verify.tolerance !== undefined && !timestamped) issue(at('tolerance'), `type ${verify.type} signs no timestamp`);
}

function pathProblem(text: string, allowHeader: boolean): string | undefined {
  try {
    const path = parsePath(text.startsWith('headers.') ? `header.${text.slice('headers.'.length)}` : text);
    if (path.root === 'header' ? !allowHeader || path.segments.length !== 1 : path.root !== 'body') {
      return allowHeader ? 'expected header.<name> or body.<path>' : 'expected a body path';
    }
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/** `whsec_` + base64 of at least 16 bytes (the prefix may be left out, as Standard Webhooks libraries allow). */
export function isStandardWebhooksSecret(value: string): boolean {
  const key = standardWebhooksKey(value);
  return key !== undefined && key.length >= 16;
}

export const WebhooksSchema = z
  .record(
    Identifier.refine((name) => name !== 'agent', { message: 'expected a name other than "agent" (POST /hooks/agent is built in)' }),
    WebhookSourceSchema,
  )
  .default({})
  .describe('Webhook sources by name, each served at POST /hooks/<name> (docs/webhooks.md).');

/** `temporal.tls`: certificates are files, read when a connection is made (docs/deploy.md). */
export const TemporalTlsSchema = z.strictObject({
  enabled: z.boolean().default(true).describe('false turns TLS off while keeping the other fields.'),
  serverName: z.string().min(1).optional().describe("Overrides the name the server's certificate is checked against (SNI)."),
  serverRootCACertFile: z.string().min(1).optional().describe("PEM file of the CA that signed the server's certificate; default the system roots."),
  clientCertFile: z.string().min(1).optional().describe('PEM file of the client certificate for mTLS (Temporal Cloud with certificates); needs clientKeyFile.'),
  clientKeyFile: z.string().min(1).optional().describe('PEM file of the client private key for mTLS; needs clientCertFile.'),
}).refine((tls) => (tls.clientCertFile === undefined) === (tls.clientKeyFile === undefined), {
  message: 'clientCertFile and clientKeyFile go together',
  path: ['clientKeyFile'],
});

export const ObservabilitySchema = z
  .strictObject({
    metrics: z
      .strictObject({
        token: secret(z.string().min(1).optional()).describe(
          'Bearer token for GET /metrics (the gateway token is accepted too). Unset: /metrics is open on a loopback bind and needs the gateway token otherwise.',
        ),
      })
      .prefault({})
      .describe("The API's Prometheus endpoint, GET /metrics (docs/observability.md)."),
    temporalMetrics: z
      .strictObject({
        prometheusAddress: z
          .string()
          .regex(/^([^\s:[\]]+|\[[0-9A-Fa-f:.]+\]):\d+$/, { message: 'expected host:port, e.g. 127.0.0.1:9464' })
          .optional()
          .describe("host:port where the worker serves the Temporal SDK's own metrics (temporal_*) at /metrics. Unset: off. Each worker process needs a port of its own."),
      })
      .prefault({})
      .describe("The Temporal SDK's worker metrics (task slots, poll and schedule-to-start latencies, ...)."),
    tracing: z
      .strictObject({
        otlpEndpoint: z
          .string()
          .max(2048)
          .regex(/^https?:\/\/\S+$/, { message: 'expected an http:// or https:// URL' })
          .optional()
          .describe(
            'OTLP/HTTP base URL of a trace collector, e.g. http://127.0.0.1:4318 (spans go to <url>/v1/traces). Unset: tracing is off and costs nothing.',
          ),
        serviceName: z.string().min(1).default('switchyard').describe('service.name prefix of the spans: <name>-api and <name>-worker.'),
      })
      .prefault({})
      .describe('OpenTelemetry tracing of the API and the worker through the Temporal interceptors (docs/observability.md).'),
  })
  .prefault({})
  .describe('Metrics and tracing (docs/observability.md).');

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
      deliverSecret: secret(z.string().optional()).describe(
        'Standard Webhooks secret (whsec_ + base64) that signs turn results POSTed to a `deliver.url` given to /hooks/agent; without it such requests are refused.',
      ),
      rpc: z
        .strictObject({
          maxFrameBytes: z
            .number()
            .int()
            .min(1024)
            .default(1_048_576)
            .describe('Largest WebSocket frame a client may send to /rpc, in bytes; a larger one closes the connection with 1009.'),
          sendBufferBytes: z
            .number()
            .int()
            .min(4096)
            .default(4_194_304)
            .describe(
              'Bytes a connection may have waiting to be sent; a client that falls further behind gets a final `connection.closing` notification and is closed with 1013 (reconnect with afterSeq).',
            ),
          pingInterval: Duration.default('30s').describe('How often idle connections are pinged; a peer that has not answered by the next ping is terminated.'),
          maxBatch: z.number().int().positive().default(100).describe('Most requests in one JSON-RPC batch; a longer batch is answered with one -32600 error.'),
          maxSubscriptions: z.number().int().positive().default(100).describe('Most `sessions.subscribe` subscriptions one connection may hold at once.'),
          rateLimit: z
            .strictObject({
              requestsPerSecond: z.number().positive().default(50).describe('Sustained requests per second per connection (every request and notification in a batch counts).'),
              burst: z.number().int().positive().default(100).describe('Requests a connection may make at once before the sustained rate applies.'),
            })
            .prefault({})
            .describe('Token bucket per connection; a request over it is answered with -32029 and `data.retryAfterMs`.'),
        })
        .prefault({})
        .describe('The WebSocket JSON-RPC API at /rpc (see docs/rpc.md).'),
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
      tls: TemporalTlsSchema.optional().describe(
        'TLS to an external Temporal (self-hosted with TLS, or Temporal Cloud). Unset: plain gRPC, unless apiKey is set (an API key always goes over TLS).',
      ),
      apiKey: secret(z.string().min(1).optional()).describe(
        'Temporal Cloud API key, sent as a bearer token on every call (implies TLS with the system roots). Use ${VAR} to keep it out of the file.',
      ),
    })
    .prefault({}),
  worker: z
    .strictObject({
      maxConcurrentTurns: z.number().int().positive().default(4).describe('Claude CLI processes one worker runs at once.'),
      maxTurnsPerRun: z.number().int().positive().default(200).describe('Turns a session workflow run takes before it continues as new.'),
      eventsUrl: z
        .string()
        .regex(/^https?:\/\/\S+$/, { message: 'expected an http:// or https:// URL' })
        .optional()
        .describe(
          "Where this worker POSTs live events (the API's /internal/events). Default: the gateway's own bind and port on this machine; set it when the API runs elsewhere (compose, several machines).",
        ),
    })
    .prefault({}),
  log: z
    .strictObject({
      level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
    })
    .prefault({}),
  agentDefaults: AgentSchema.prefault({}),
  agents: z.record(Identifier, AgentOverrideSchema).default({ main: {} }).describe('Agents by id; each is merged over agentDefaults. `main` always exists.'),
  webhooks: WebhooksSchema,
  cron: z.record(Identifier, CronJobSchema).default({}).describe('Scheduled jobs by name, each the Temporal Schedule `cron:<name>` (docs/cron.md).'),
  channels: ChannelsSchema,
  observability: ObservabilitySchema,
}).superRefine(checkWebhookSecrets).superRefine(checkCronJobs).superRefine(checkChannelAgents);

export type Config = z.infer<typeof ConfigSchema>;

/** Checks across sections: a bearer source needs a token of its own or the gateway's; the delivery secret's format. */
function checkWebhookSecrets(config: { gateway: { auth: { token?: string | undefined }; deliverSecret?: string | undefined }; webhooks: Record<string, WebhookSourceConfig> }, ctx: z.RefinementCtx): void {
  if (config.gateway.deliverSecret !== undefined && !isStandardWebhooksSecret(config.gateway.deliverSecret)) {
    ctx.addIssue({ code: 'custom', path: ['gateway', 'deliverSecret'], message: 'expected whsec_ followed by base64 of at least 16 bytes' });
  }
  for (const [name, source] of Object.entries(config.webhooks)) {
    const verify = source.verify;
    if (typeof verify === 'object' && verify.type === 'bearer' && verify.secret === undefined && verify.secrets === undefined && !config.gateway.auth.token) {
      ctx.addIssue({ code: 'custom', path: ['webhooks', name, 'verify', 'secret'], message: 'missing: type bearer needs secret or secrets, or gateway.auth.token' });
    }
  }
}
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
    // Deny rules only add up: an agent cannot lift a rule its defaults set.
    toolPolicy: { deny: [...new Set([...config.agentDefaults.toolPolicy.deny, ...(override.toolPolicy?.deny ?? [])])] },
  };
  return AgentSchema.parse(merged);
}

export function agentIds(config: Config): string[] {
  return [...new Set(['main', ...Object.keys(config.agents)])];
}
