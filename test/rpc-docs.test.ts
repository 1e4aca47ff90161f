// The method table is the single source: docs/rpc.md and docs/rpc.schema.json are generated
// from it and must be current; every entry is documented and its example is valid.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, test } from 'node:test';
import { z } from 'zod';
import { RPC_DOCS_FILE, RPC_SCHEMA_FILE, renderRpcDocs, renderRpcSchema } from '../api/rpc/docs.js';
import { defineMethod, MethodTable } from '../api/rpc/method.js';
import { coreMethods } from '../api/rpc/methods/index.js';
import { APP_ERRORS } from '../api/rpc/protocol.js';

/** Issue #4's methods: all of them must be served. */
const SESSION_METHODS = [
  'gateway.health',
  'gateway.status',
  'config.get',
  'sessions.send',
  'sessions.list',
  'sessions.get',
  'sessions.history',
  'sessions.cancel',
  'sessions.reset',
  'sessions.subscribe',
  'sessions.unsubscribe',
];
/** DESIGN.md's method list: nothing outside it is served. */
const DESIGNED = [
  ...SESSION_METHODS,
  ...['add', 'list', 'get', 'update', 'pause', 'resume', 'trigger', 'remove', 'runs'].map((verb) => `cron.${verb}`),
  ...['list', 'start', 'stop', 'restart', 'logs'].map((verb) => `channels.${verb}`),
];

describe('docs/rpc.md and docs/rpc.schema.json', () => {
  test('are not stale (regenerate with `tsx api/rpc/docs.ts --write`)', () => {
    assert.ok(fs.existsSync(RPC_DOCS_FILE), `${RPC_DOCS_FILE} is missing`);
    assert.equal(fs.readFileSync(RPC_DOCS_FILE, 'utf8'), renderRpcDocs(), 'docs/rpc.md is stale: run `npx tsx api/rpc/docs.ts --write`');
    assert.equal(fs.readFileSync(RPC_SCHEMA_FILE, 'utf8'), renderRpcSchema(), 'docs/rpc.schema.json is stale: run `npx tsx api/rpc/docs.ts --write`');
  });

  test('the schema file holds params and result schemas for every method, and every error code', () => {
    const schema = JSON.parse(renderRpcSchema()) as { methods: Record<string, { params: any; result: any }>; errors: { code: number }[] };
    assert.deepEqual(Object.keys(schema.methods), coreMethods.map((method) => method.name));
    for (const [name, method] of Object.entries(schema.methods)) {
      assert.equal(method.params.type, 'object', `${name} takes named params`);
      assert.equal(method.params.additionalProperties, false, `${name} refuses unknown params`);
      assert.ok(method.result.type, `${name} has a result schema`);
    }
    assert.deepEqual(schema.methods['sessions.send']!.params.required, ['message']);
    for (const code of [-32700, -32600, -32601, -32602, -32603, ...Object.values(APP_ERRORS).map((e) => e.code)]) {
      assert.ok(schema.errors.some((error) => error.code === code), `error ${code}`);
    }
    for (const error of Object.values(APP_ERRORS)) assert.ok(error.code <= -32000 && error.code >= -32099, `${error.code} is in the server range`);
    const docs = renderRpcDocs();
    for (const error of Object.values(APP_ERRORS)) assert.ok(docs.includes(`| ${error.code} | ${error.message} |`));
  });
});

describe('the method table', () => {
  test('serves the methods of the design (and no others), each described, with a valid example', () => {
    const names = coreMethods.map((method) => method.name as string);
    for (const name of SESSION_METHODS) assert.ok(names.includes(name), `${name} is served`);
    for (const name of names) assert.ok(DESIGNED.includes(name), `${name} is in DESIGN.md's list`);
    for (const method of coreMethods) {
      assert.ok(method.description.length > 20, `${method.name} is described`);
      const parsed = method.params.safeParse(method.example);
      assert.ok(parsed.success, `${method.name}'s example is valid: ${JSON.stringify(parsed.error?.issues)}`);
    }
  });

  test('takes methods from other modules, refuses duplicates and reserved names', () => {
    const table = new MethodTable(coreMethods);
    const extra = defineMethod({ name: 'later.list', description: 'A later module adds its own.', params: z.strictObject({}), result: z.array(z.string()), handler: () => [] });
    table.add(extra);
    assert.equal(table.get('later.list'), extra);
    assert.throws(() => table.add(extra), /defined twice/);
    assert.throws(() => table.add({ ...extra, name: 'rpc.discover' }), /reserved/);
  });
});
