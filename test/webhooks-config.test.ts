// `webhooks.<source>` in the config: what is accepted, and bad templates, paths, secrets and
// combinations refused at load time with the path and exit status 78.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { CommanderError } from 'commander';
import { configCommand } from '../cli/commands/config.js';
import { ConfigError } from '../config/errors.js';
import { loadConfig } from '../config/load.js';
import { REDACTED, redactConfig, secretValues } from '../config/redact.js';
import { ConfigSchema } from '../config/schema.js';

const SW_SECRET = `whsec_${Buffer.from('a standard webhooks key!').toString('base64')}`;
const roots: string[] = [];
after(() => {
  for (const root of roots) fs.rmSync(root, { recursive: true, force: true });
});

function project(yaml: string, env: Record<string, string> = {}) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'switchyard-webhooks-config-'));
  roots.push(root);
  const file = path.join(root, 'switchyard.yaml');
  fs.writeFileSync(file, yaml);
  return { cwd: root, file, env: { HOME: root, SWITCHYARD_HOME: path.join(root, 'home'), ...env } as NodeJS.ProcessEnv };
}

function problems(yaml: string, env: Record<string, string> = {}): string {
  const at = project(yaml, env);
  try {
    loadConfig({ cwd: at.cwd, env: at.env });
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.message;
  }
  assert.fail('expected a config error');
}

const FULL = `
gateway:
  auth: { token: gw-token }
agents:
  reviewer: {}
webhooks:
  github:
    verify: { type: github, secrets: ["\${GH_OLD}", "\${GH_NEW}"] }
    agent: reviewer
    session: "github:{{body.repository.full_name}}"
    prompt: |
      {{header.x-github-event}} on {{body.repository.full_name | default: "?"}}:
      {{body | json | truncate: 20000}}
    filters:
      ignore: [{ header: x-github-event, in: [ping] }]
      when: [{ body: pull_request.draft, notIn: [true] }]
    deliver: { url: "https://example.test/results", secret: "${SW_SECRET}" }
    rateLimit: { requestsPerSecond: 5, burst: 10 }
    bodyLimit: 2000000
  stripe:
    verify: { type: stripe, secret: whsec_abc, tolerance: 10m }
    mode: sync
    timeoutMs: 30000
  slack:
    verify: { type: slack, secret: s1 }
  svix:
    verify: { type: standard-webhooks, secret: "${SW_SECRET}" }
    dedupeKey: headers.webhook-id
  shopify:
    verify: { type: hmac, header: X-Shopify-Hmac-Sha256, encoding: base64, secret: shp }
    dedupeKey: header.x-shopify-webhook-id
  zoomish:
    verify: { type: hmac, header: x-zm-signature, prefix: "v0=", timestampHeader: x-zm-request-timestamp, signedPayload: "v0:{timestamp}:{body}", secret: z }
  gitlab:
    verify: { type: bearer, header: X-Gitlab-Token, secret: gl }
    dedupeKey: "{{header.x-gitlab-event-uuid}}"
  internal:
    verify: { type: bearer }
  local:
    verify: none
    dedupeKey: none
  off:
    enabled: false
`;

describe('accepted', () => {
  test('a config using every scheme and option loads, as written (no defaults filled in)', () => {
    const at = project(FULL, { GH_OLD: 'old-secret', GH_NEW: 'new-secret' });
    const { config } = loadConfig({ cwd: at.cwd, env: at.env });
    assert.deepEqual(Object.keys(config.webhooks), ['github', 'stripe', 'slack', 'svix', 'shopify', 'zoomish', 'gitlab', 'internal', 'local', 'off']);
    assert.deepEqual(config.webhooks.github!.verify, { type: 'github', secrets: ['old-secret', 'new-secret'] });
    assert.deepEqual(config.webhooks.local, { verify: 'none', dedupeKey: 'none' });
    assert.equal(config.webhooks.stripe!.mode, 'sync');
  });

  test('every secret is redacted, including secret lists and delivery secrets', () => {
    const at = project(FULL, { GH_OLD: 'old-secret', GH_NEW: 'new-secret' });
    const { config } = loadConfig({ cwd: at.cwd, env: at.env });
    const redacted = redactConfig(config) as any;
    assert.equal(redacted.webhooks.github.verify.secrets, REDACTED);
    assert.equal(redacted.webhooks.github.deliver.secret, REDACTED);
    assert.equal(redacted.webhooks.github.deliver.url, 'https://example.test/results');
    assert.equal(redacted.webhooks.stripe.verify.secret, REDACTED);
    assert.equal(redacted.webhooks.github.dedupeKey, undefined);
    assert.equal(redacted.webhooks.svix.dedupeKey, 'headers.webhook-id');
    const text = JSON.stringify(redacted);
    for (const secret of ['old-secret', 'new-secret', 'whsec_abc', SW_SECRET, 'shp', '"gl"']) assert.ok(!text.includes(secret), secret);
    const values = secretValues(config);
    for (const secret of ['old-secret', 'new-secret', SW_SECRET, 'whsec_abc']) assert.ok(values.includes(secret), secret);
  });

  test('env vars reach webhook fields', () => {
    const at = project('webhooks:\n  gh:\n    verify: { type: github, secret: x }\n', { SWITCHYARD_WEBHOOKS__GH__MODE: 'sync', SWITCHYARD_WEBHOOKS__GH__ENABLED: 'false' });
    const { config } = loadConfig({ cwd: at.cwd, env: at.env });
    assert.equal(config.webhooks.gh!.mode, 'sync');
    assert.equal(config.webhooks.gh!.enabled, false);
  });
});

describe('refused with the path (exit 78)', () => {
  const cases: [string, string, RegExp][] = [
    ['a template syntax error', 'webhooks:\n  gh:\n    prompt: "{{ body.title "\n', /webhooks\.gh\.prompt: invalid template: unclosed/],
    ['an unknown filter', 'webhooks:\n  gh:\n    session: "{{ body.x | shout }}"\n', /webhooks\.gh\.session: invalid template: unknown filter "shout"/],
    ['prototype access', 'webhooks:\n  gh:\n    agent: "{{ body.constructor }}"\n', /webhooks\.gh\.agent: invalid template: "constructor" is not allowed/],
    ['an unknown template name', 'webhooks:\n  gh:\n    prompt: "{{ env.HOME }}"\n', /unknown name "env"/],
    ['a bad dedupe key', 'webhooks:\n  gh:\n    dedupeKey: query.x\n', /webhooks\.gh\.dedupeKey: expected header/],
    ['a bad filter path', 'webhooks:\n  gh:\n    filters: { when: [{ body: "a..b", equals: 1 }] }\n', /webhooks\.gh\.filters\.when\.0\.body/],
    ['a rule with two tests', 'webhooks:\n  gh:\n    filters: { ignore: [{ header: x, in: [a], equals: b }] }\n', /webhooks\.gh\.filters\.ignore\.0: expected exactly one of in, notIn, equals, exists/],
    ['a rule with no field', 'webhooks:\n  gh:\n    filters: { ignore: [{ equals: b }] }\n', /expected exactly one of header or body/],
    ['a signature scheme without a secret', 'webhooks:\n  gh:\n    verify: { type: github }\n', /webhooks\.gh\.verify\.secret: missing: type github needs secret or secrets/],
    ['an unknown scheme', 'webhooks:\n  gh:\n    verify: { type: gitlab, secret: x }\n', /webhooks\.gh\.verify: expected "none" or a mapping with type/],
    ['an hmac without its header', 'webhooks:\n  gh:\n    verify: { type: hmac, secret: x }\n', /webhooks\.gh\.verify\.header: missing/],
    ['hmac fields on another scheme', 'webhooks:\n  gh:\n    verify: { type: github, secret: x, encoding: base64 }\n', /webhooks\.gh\.verify\.encoding: only for type hmac/],
    ['a tolerance where nothing is timestamped', 'webhooks:\n  gh:\n    verify: { type: github, secret: x, tolerance: 1m }\n', /webhooks\.gh\.verify\.tolerance: type github signs no timestamp/],
    ['a standard-webhooks secret that is not base64', 'webhooks:\n  gh:\n    verify: { type: standard-webhooks, secret: "not base64!" }\n', /webhooks\.gh\.verify\.secret: expected whsec_/],
    ['a bearer source with no token anywhere', 'webhooks:\n  gh:\n    verify: { type: bearer }\n', /webhooks\.gh\.verify\.secret: missing: type bearer needs secret or secrets, or gateway\.auth\.token/],
    ['a delivery URL that is not http(s)', `webhooks:\n  gh:\n    deliver: { url: "ftp://x", secret: "${SW_SECRET}" }\n`, /webhooks\.gh\.deliver\.url: expected an http/],
    ['a weak delivery secret', 'webhooks:\n  gh:\n    deliver: { url: "http://x", secret: "whsec_c2hvcnQ=" }\n', /webhooks\.gh\.deliver\.secret: expected whsec_/],
    ['a bad gateway.deliverSecret', 'gateway:\n  deliverSecret: nope\n', /gateway\.deliverSecret: expected whsec_/],
    ['the reserved name "agent"', 'webhooks:\n  agent: {}\n', /webhooks\.agent: invalid name "agent": expected a name other than "agent"/],
    ['an unknown key', 'webhooks:\n  gh:\n    secret: x\n', /webhooks\.gh\.secret: unknown key/],
  ];
  for (const [what, yaml, expected] of cases) {
    test(what, () => {
      const message = problems(yaml);
      assert.match(message, expected);
      assert.doesNotMatch(message, /not base64!|c2hvcnQ/, 'secret values never appear in errors');
    });
  }

  test('`switchyard config` exits 78 on a bad template, naming file and path', async () => {
    const at = project('webhooks:\n  gh:\n    prompt: "{{ body | nope }}"\n');
    let stderr = '';
    const command = configCommand({ cwd: at.cwd, env: at.env, writeOut: () => undefined });
    command.exitOverride().configureOutput({ writeOut: () => undefined, writeErr: (text) => (stderr += text) });
    let exitCode = 0;
    try {
      await command.parseAsync(['node', 'config']);
    } catch (error) {
      if (!(error instanceof CommanderError)) throw error;
      exitCode = error.exitCode;
    }
    assert.equal(exitCode, 78);
    assert.match(stderr, new RegExp(`${at.file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: webhooks\\.gh\\.prompt: invalid template: unknown filter "nope"`));
  });

  test('the bearer default needs no secret when the gateway has a token', () => {
    assert.equal(ConfigSchema.safeParse({ gateway: { auth: { token: 't' } }, webhooks: { gh: { verify: { type: 'bearer' } } } }).success, true);
  });
});

describe('docs/webhooks.md', () => {
  test('every YAML example with a webhooks section is a valid config', () => {
    const text = fs.readFileSync(path.join(import.meta.dirname, '../docs/webhooks.md'), 'utf8');
    const blocks = [...text.matchAll(/```yaml\n([\s\S]*?)```/g)].map((match) => match[1]!);
    const configs = blocks.filter((block) => /^webhooks:/m.test(block) || /^  [a-z-]+:\n    verify:/m.test(block));
    assert.ok(configs.length >= 5, `found ${configs.length} examples`);
    const env = new Proxy({} as Record<string, string>, { get: (_target, name) => (typeof name === 'string' && /^[A-Z_]+$/.test(name) ? `whsec_${Buffer.from(`value of ${name} padded`).toString('base64')}` : undefined) });
    for (const block of configs) {
      const yaml = /^webhooks:/m.test(block) ? block : `webhooks:\n${block.replace(/^# .*\n/gm, '')}`;
      const at = project(yaml);
      const vars = Object.fromEntries([...yaml.matchAll(/\$\{([A-Z_]+)/g)].map((m) => [m[1]!, env[m[1]!]!]));
      assert.doesNotThrow(() => loadConfig({ cwd: at.cwd, env: { ...at.env, ...vars } }), `example:\n${yaml}`);
    }
  });
});
