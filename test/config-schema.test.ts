import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { CONFIG_DOCS_FILE, renderConfigDocs } from '../config/docs.js';
import { configJsonSchema } from '../config/json-schema.js';
import { ConfigSchema } from '../config/schema.js';

const TOP_LEVEL = ['gateway', 'temporal', 'worker', 'log', 'agentDefaults', 'agents', 'webhooks', 'cron', 'channels', 'observability'];

describe('JSON Schema', () => {
  test('is valid JSON with the top-level keys, closed, nothing required', () => {
    const schema = JSON.parse(JSON.stringify(configJsonSchema())) as Record<string, any>;
    assert.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema');
    assert.equal(schema.type, 'object');
    assert.deepEqual(Object.keys(schema.properties), TOP_LEVEL);
    assert.equal(schema.additionalProperties, false);
    assert.ok(!schema.required || schema.required.length === 0, 'input side: defaults make every key optional');
    assert.equal(schema.properties.gateway.properties.port.type, 'integer');
    assert.equal(schema.properties.gateway.properties.port.default, 8420);
    assert.deepEqual(schema.properties.agentDefaults.properties.busy.enum, ['queue', 'collect', 'interrupt']);
    assert.equal(schema.properties.gateway.properties.auth.properties.token.writeOnly, true);
    assert.equal(typeof schema.properties.agents.additionalProperties, 'object');
  });
});

describe('docs/config.md', () => {
  test('is not stale (regenerate with `tsx config/docs.ts --write`)', () => {
    assert.ok(fs.existsSync(CONFIG_DOCS_FILE), `${CONFIG_DOCS_FILE} is missing`);
    assert.equal(fs.readFileSync(CONFIG_DOCS_FILE, 'utf8'), renderConfigDocs());
  });

  test('documents every key with its type, default, env var and description', () => {
    const docs = renderConfigDocs();
    for (const section of TOP_LEVEL) assert.match(docs, new RegExp(`### \`${section}\``));
    assert.match(docs, /\| `gateway\.port` \| integer 0–65535 \| `8420` \| `SWITCHYARD_GATEWAY__PORT` \|/);
    assert.match(docs, /\| `agentDefaults\.turnTimeout` \| duration \| `10m` \|/);
    assert.match(docs, /\| `worker\.maxConcurrentTurns` \| integer > 0 \| `4` \| `SWITCHYARD_WORKER__MAX_CONCURRENT_TURNS` \| Claude CLI processes/);
    assert.match(docs, /\| `gateway\.auth\.token` \| string \| +\| `SWITCHYARD_GATEWAY__AUTH__TOKEN` \| \*\*Secret\.\*\*/);
    assert.match(docs, /`agents\.<id>\.model`/);
    for (const topic of ['## Layers', '## Environment variables', '## Interpolation', 'exit status 78']) assert.ok(docs.includes(topic), topic);
  });
});

describe('schema', () => {
  test('an agent override keeps only what it sets (no schema defaults fill in)', () => {
    const config = ConfigSchema.parse({ agents: { reviewer: { model: 'opus', retry: { maxAttempts: 2 } } } });
    assert.deepEqual(config.agents.reviewer, { model: 'opus', retry: { maxAttempts: 2 } });
  });

  test('agent overrides are strict and validated like agentDefaults', () => {
    assert.equal(ConfigSchema.safeParse({ agents: { x: { nope: 1 } } }).success, false);
    assert.equal(ConfigSchema.safeParse({ agents: { x: { turnTimeout: 'soon' } } }).success, false);
    assert.equal(ConfigSchema.safeParse({ agents: { x: { retry: { extra: 1 } } } }).success, false);
  });

  test('temporal.address accepts embedded, host:port and [ipv6]:port', () => {
    for (const address of ['embedded', 'localhost:7233', 'ns.acct.tmprl.cloud:7233', '[::1]:7233']) {
      assert.equal(ConfigSchema.safeParse({ temporal: { address } }).success, true, address);
    }
    for (const address of ['localhost', 'http://x:1', 'a b:1']) {
      assert.equal(ConfigSchema.safeParse({ temporal: { address } }).success, false, address);
    }
  });
});
