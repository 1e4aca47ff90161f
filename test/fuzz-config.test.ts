// Fuzzing the config loader: whatever the files, environment variables and flags hold, the
// answer is a Config or a ConfigError that says something, never another exception; and a
// ConfigError never repeats a secret it was given.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { ConfigError } from '../config/errors.js';
import { loadConfig, parseYamlDocument } from '../config/load.js';
import { WEBHOOK_VERIFY_TYPES } from '../config/schema.js';

let dir: string;
before(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'switchyard-fuzz-config-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const SECRET = 'fuzz-secret-value-9f3b2d71';

/** Either a Config or a ConfigError with a message; anything else fails the property. */
function load(options: { yaml?: string; env?: Record<string, string>; flags?: Record<string, unknown> }): { ok: true } | { ok: false; error: ConfigError } {
  const file = path.join(dir, 'switchyard.yaml');
  writeFileSync(file, options.yaml ?? '');
  try {
    loadConfig({ cwd: dir, env: { SWITCHYARD_HOME: dir, ...options.env }, ...(options.flags ? { flags: options.flags } : {}) });
    return { ok: true };
  } catch (error) {
    assert.ok(error instanceof ConfigError, `not a ConfigError: ${error instanceof Error ? error.stack : String(error)}`);
    assert.ok(error.message.trim().length > 0, 'the error says something');
    assert.ok(error.issues.length > 0);
    return { ok: false, error };
  }
}

const anyValue = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  { weight: 1, arbitrary: fc.constantFrom('${HOME}', '${NOPE}', '${NOPE:-x}', '$${ESCAPED}', '${', '10m', '0s', '-1', '1e309', 'NaN', '~', 'yes', 'null') },
);
const duration = fc.oneof(fc.constantFrom('1s', '10m', '2h', '500ms', '0m', '1x', '', '5'), fc.string({ maxLength: 6 }));
const name = fc.oneof(fc.constantFrom('main', 'agent', 'reviewer', 'a.b', '-x', '__proto__', 'constructor', ''), fc.string({ maxLength: 8 }));
const template = fc.oneof(fc.constantFrom('{{body.x}}', '{{ body | json }}', '{{', '}}', '{{header.x-y | upper | truncate 5}}', '{{query.a | default "b"}}', '{{nope}}'), fc.string({ maxLength: 20 }));

const agent = fc.record(
  {
    command: anyValue,
    model: fc.oneof(fc.string(), anyValue),
    maxTurns: fc.oneof(fc.integer(), anyValue),
    turnTimeout: duration,
    stallTimeout: duration,
    busy: fc.oneof(fc.constantFrom('queue', 'collect', 'interrupt'), fc.string()),
    env: fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(fc.string(), anyValue)),
    retry: fc.record({ maxAttempts: fc.oneof(fc.integer(), anyValue), initialInterval: duration }, { requiredKeys: [] }),
  },
  { requiredKeys: [] },
);
const webhook = fc.record(
  {
    verify: fc.oneof(
      fc.constant('none'),
      fc.record({ type: fc.oneof(fc.constantFrom(...WEBHOOK_VERIFY_TYPES), fc.string()), secret: fc.oneof(fc.constant(SECRET), anyValue), tolerance: duration }, { requiredKeys: [] }),
      anyValue,
    ),
    session: template,
    prompt: template,
    agent: template,
    dedupeKey: fc.oneof(fc.constantFrom('header.x-id', 'body.id', 'none', 'body.', 'header.'), template),
    mode: fc.oneof(fc.constantFrom('async', 'sync'), fc.string()),
    deliver: fc.record({ url: fc.oneof(fc.webUrl(), fc.string()), secret: fc.oneof(fc.constant(`whsec_${SECRET}`), anyValue) }, { requiredKeys: [] }),
    filters: fc.record({ when: fc.array(fc.dictionary(fc.constantFrom('header', 'body', 'in', 'equals', 'exists'), anyValue), { maxLength: 2 }) }, { requiredKeys: [] }),
  },
  { requiredKeys: [] },
);
const cron = fc.record(
  {
    schedule: fc.oneof(fc.record({ every: duration }), fc.record({ cron: fc.oneof(fc.constantFrom('* * * * *', '@daily', '61 * * * *', 'x'), fc.string()) }), fc.record({ at: fc.string() }), anyValue),
    prompt: fc.oneof(fc.string(), anyValue),
    agent: name,
    session: fc.oneof(fc.string(), anyValue),
    timeout: duration,
  },
  { requiredKeys: [] },
);
const document = fc.record(
  {
    gateway: fc.record(
      {
        bind: fc.oneof(fc.constantFrom('127.0.0.1', '0.0.0.0', '::1', 'localhost'), anyValue),
        port: fc.oneof(fc.integer({ min: -10, max: 70_000 }), anyValue),
        auth: fc.record({ token: fc.oneof(fc.constant(SECRET), anyValue) }, { requiredKeys: [] }),
        bodyLimit: anyValue,
        deliverSecret: fc.oneof(fc.constant(SECRET), anyValue),
        rpc: fc.dictionary(fc.constantFrom('maxFrameBytes', 'maxBatch', 'pingInterval', 'rateLimit', 'x'), anyValue),
      },
      { requiredKeys: [] },
    ),
    temporal: fc.dictionary(fc.constantFrom('address', 'namespace', 'uiPort', 'devServerPort', 'dbFile', 'x'), anyValue),
    worker: fc.dictionary(fc.constantFrom('maxConcurrentTurns', 'maxTurnsPerRun', 'x'), anyValue),
    log: fc.record({ level: fc.oneof(fc.constantFrom('info', 'debug', 'loud'), anyValue) }, { requiredKeys: [] }),
    agentDefaults: agent,
    agents: fc.dictionary(name, fc.oneof(agent, anyValue), { maxKeys: 3 }),
    webhooks: fc.dictionary(name, fc.oneof(webhook, anyValue), { maxKeys: 3 }),
    cron: fc.dictionary(name, fc.oneof(cron, anyValue), { maxKeys: 2 }),
    channels: anyValue,
    unknownSection: anyValue,
  },
  { requiredKeys: [] },
);

test('a structured but random config file gives a Config or a ConfigError, and the error never shows a secret', () => {
  fc.assert(
    fc.property(document, (tree) => {
      const outcome = load({ yaml: stringify(tree) });
      if (!outcome.ok) assert.ok(!outcome.error.message.includes(SECRET), `the error repeats a secret: ${outcome.error.message}`);
    }),
    { numRuns: 300 },
  );
});

test('arbitrary text, and valid YAML with bytes changed, give a Config or a ConfigError', () => {
  const valid = stringify({ gateway: { port: 8420, auth: { token: SECRET } }, agents: { main: { model: 'sonnet' } }, webhooks: { gh: { verify: { type: 'github', secret: SECRET } } } });
  const mutated = fc
    .array(fc.tuple(fc.nat({ max: valid.length }), fc.string({ maxLength: 3, unit: fc.constantFrom(':', '-', ' ', '\n', '{', '[', '&', '*', '!', '#', '"', "'", '|', '>', '%', '@', '`', '\t', 'x') })), { minLength: 1, maxLength: 4 })
    .map((edits) => edits.reduce((text, [at, insert]) => text.slice(0, at) + insert + text.slice(at), valid));
  fc.assert(
    fc.property(fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 100 }), mutated), (yaml) => {
      const outcome = load({ yaml });
      if (!outcome.ok) assert.ok(!outcome.error.message.includes(SECRET), `the error repeats a secret: ${outcome.error.message}`);
    }),
    { numRuns: 400 },
  );
});

test('a billion-laughs file is refused, not expanded', () => {
  const lines = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
  for (let i = 1; i < 12; i++) lines.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
  const outcome = load({ yaml: lines.join('\n') });
  assert.equal(outcome.ok, false);
});

test('random SWITCHYARD_* variables and --set flags give a Config or a ConfigError', () => {
  const variable = fc.oneof(
    fc.constantFrom('SWITCHYARD_GATEWAY__PORT', 'SWITCHYARD_GATEWAY__BIND', 'SWITCHYARD_AGENTS__MAIN__MAX_TURNS', 'SWITCHYARD_WORKER__MAX_CONCURRENT_TURNS', 'SWITCHYARD_AGENT_DEFAULTS__ENV__X', 'SWITCHYARD_TOKEN', 'SWITCHYARD_ENV', 'SWITCHYARD_CONFIG', 'SWITCHYARD___', 'SWITCHYARD_AGENTS____PROTO____X'),
    fc.string({ maxLength: 12 }).map((suffix) => `SWITCHYARD_${suffix}`),
  );
  const flag = fc.oneof(fc.constantFrom('gateway.port', 'agents.main.maxTurns', 'webhooks.x.verify', 'agents.__proto__.x', 'gateway..port', '', '[0]', 'cron.j.schedule.every'), fc.string({ maxLength: 12 }));
  fc.assert(
    fc.property(fc.dictionary(variable, fc.string({ maxLength: 12 }), { maxKeys: 4 }), fc.dictionary(flag, fc.oneof(fc.string({ maxLength: 12 }), anyValue), { maxKeys: 3 }), (env, flags) => {
      load({ env, flags });
    }),
    { numRuns: 300 },
  );
});

// Found by the test above: the yaml library names an unresolved alias in its message, so an
// unquoted token starting with `*` came back in the error.
test('an unresolved alias is reported without its text', () => {
  assert.throws(
    () => parseYamlDocument(`gateway:\n  auth:\n    token: *${SECRET}\n`, 'switchyard.yaml'),
    (error: Error) => /Unresolved alias/.test(error.message) && !error.message.includes(SECRET),
  );
});
