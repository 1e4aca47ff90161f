// A compiled source without HTTP: filters, mapping, dedupe keys, body parsing, and the
// limits (token bucket, authentication-failure brake).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { AuthFailureThrottle, TokenBucket } from '../api/webhooks/limits.js';
import { compileSource, idempotencyKeyFor, parseBody, queryMap } from '../api/webhooks/source.js';
import type { TemplateContext } from '../api/webhooks/template.js';
import { ConfigSchema, type ConfigInput } from '../config/schema.js';

function source(name: string, webhooks: NonNullable<ConfigInput['webhooks']>, extra: ConfigInput = {}) {
  const config = ConfigSchema.parse({ agents: { main: {}, reviewer: {} }, ...extra, webhooks });
  return compileSource(name, config.webhooks[name]!, config);
}
const exists = (id: string) => id === 'main' || id === 'reviewer';
const ctx = (body: unknown, headers: Record<string, string> = {}): TemplateContext => ({ body, headers, query: {}, source: 'src' });

describe('filters', () => {
  const gh = source('gh', {
    gh: {
      verify: 'none',
      filters: {
        ignore: [{ header: 'X-GitHub-Event', in: ['ping'] }, { body: 'sender.type', equals: 'Bot' }],
        when: [{ body: 'pull_request.draft', notIn: [true] }, { body: 'action', exists: true }],
      },
    },
  });

  test('ignore rules: any match ignores, with the rule named', () => {
    const ping = gh.filter(ctx({ action: 'x' }, { 'x-github-event': 'ping' }));
    assert.deepEqual(ping, { ignored: true, reason: 'filters.ignore[0] (header x-github-event) matched' });
    assert.equal(gh.filter(ctx({ action: 'x', sender: { type: 'Bot' } })).ignored, true);
  });

  test('when rules: every one must match', () => {
    assert.deepEqual(gh.filter(ctx({ action: 'opened', pull_request: { draft: false } }, { 'x-github-event': 'pull_request' })), { ignored: false });
    assert.deepEqual(gh.filter(ctx({ action: 'opened', pull_request: { draft: true } })), {
      ignored: true,
      reason: 'filters.when[0] (body.pull_request.draft) did not match',
    });
    assert.equal(gh.filter(ctx({ pull_request: { draft: false } })).ignored, true, 'action must exist');
  });

  test('scalars compare as text; null only matches null; objects match nothing', () => {
    const s = source('s', { s: { verify: 'none', filters: { when: [{ body: 'n', in: [1, 'two', null] }] } } });
    assert.equal(s.filter(ctx({ n: 1 })).ignored, false);
    assert.equal(s.filter(ctx({ n: '1' })).ignored, false);
    assert.equal(s.filter(ctx({ n: 'two' })).ignored, false);
    assert.equal(s.filter(ctx({ n: null })).ignored, false);
    assert.equal(s.filter(ctx({})).ignored, true);
    assert.equal(s.filter(ctx({ n: { toString: 1 } })).ignored, true);
    assert.equal(s.filter(ctx('not json')).ignored, true);
  });

  test('reasons are header-safe whatever the config says', () => {
    const s = source('s', { s: { verify: 'none', filters: { ignore: [{ body: '["é\\nx"]', exists: false }] } } });
    const result = s.filter(ctx({}));
    assert.equal(result.ignored, true);
    assert.match((result as { reason: string }).reason, /^[\x20-\x7e]+$/);
  });
});

describe('mapping', () => {
  test('defaults: agent main, session = the source name, the body as JSON in the prompt', () => {
    const s = source('orders', { orders: { verify: 'none' } });
    const mapped = s.map(ctx({ id: 7 }), exists);
    assert.equal(mapped.ok, true);
    if (!mapped.ok) return;
    assert.equal(mapped.agentId, 'main');
    assert.equal(mapped.sessionKey, 'agent:main:orders');
    assert.match(mapped.prompt, /"id": 7/);
  });

  test('templates pick agent, scope and prompt; a whole session key is taken as is', () => {
    const s = source('gh', { gh: { verify: 'none', agent: 'reviewer', session: 'github:{{body.repo}}', prompt: '{{header.x-e}}: {{body.title}}' } });
    assert.deepEqual(s.map(ctx({ repo: 'acme/api', title: 'T' }, { 'x-e': 'push' }), exists), {
      ok: true,
      agentId: 'reviewer',
      sessionKey: 'agent:reviewer:github:acme/api',
      prompt: 'push: T',
    });
    const whole = source('w', { w: { verify: 'none', session: 'agent:{{body.agent}}:{{body.scope}}' } });
    assert.deepEqual(whole.map(ctx({ agent: 'reviewer', scope: 'x' }), exists), { ok: true, agentId: 'reviewer', sessionKey: 'agent:reviewer:x', prompt: 'Webhook delivery from "src":\n\n{\n  "agent": "reviewer",\n  "scope": "x"\n}' });
  });

  test('unknown agents, empty and malformed renders are refused with the field', () => {
    const s = source('s', { s: { verify: 'none', agent: '{{body.agent}}', session: '{{body.scope}}', prompt: '{{body.text}}' } });
    assert.deepEqual(s.map(ctx({ agent: 'ghost', scope: 'x', text: 't' }), exists), { ok: false, field: 'agent', code: 'unknown_agent', message: 'no agent "ghost" is configured' });
    assert.equal((s.map(ctx({ agent: 'main', scope: '', text: 't' }), exists) as { field: string }).field, 'session');
    assert.equal((s.map(ctx({ agent: 'main', scope: 'a\nb', text: 't' }), exists) as { field: string }).field, 'session');
    assert.equal((s.map(ctx({ agent: 'main', scope: 'x'.repeat(600), text: 't' }), exists) as { field: string }).field, 'session');
    assert.equal((s.map(ctx({ agent: 'main', scope: 'x', text: '  ' }), exists) as { field: string }).field, 'prompt');
    assert.equal((s.map(ctx({ agent: '../etc', scope: 'x', text: 't' }), exists) as { code: string }).code, 'unknown_agent');
    const mismatch = source('m', { m: { verify: 'none', agent: 'main', session: 'agent:reviewer:x' } });
    assert.equal((mismatch.map(ctx({}), exists) as { field: string }).field, 'session');
  });

  test('mapping never throws on arbitrary payloads', () => {
    const s = source('s', { s: { verify: 'none', agent: '{{body.a | default: "main"}}', session: '{{body.b | default: "x"}}', prompt: '{{body | json}}{{header.h}}' } });
    fc.assert(
      fc.property(fc.jsonValue(), fc.dictionary(fc.string(), fc.string()), (body, headers) => {
        s.map(ctx(body, headers), exists);
        s.filter(ctx(body, headers));
        s.dedupeKey(ctx(body, headers));
      }),
      { numRuns: 500 },
    );
  });
});

describe('dedupe keys', () => {
  test("each scheme's delivery id by default", () => {
    const config = { gateway: { auth: { token: 't' } } };
    const key = (verify: unknown, context: TemplateContext) => source('x', { x: { verify: verify as never } }, config).dedupeKey(context);
    assert.equal(key({ type: 'github', secret: 's' }, ctx({}, { 'x-github-delivery': 'gh-1' })), 'hook:x:gh-1');
    assert.equal(key({ type: 'stripe', secret: 's' }, ctx({ id: 'evt_1' })), 'hook:x:evt_1');
    assert.equal(key({ type: 'standard-webhooks', secret: `whsec_${Buffer.from('0123456789abcdef').toString('base64')}` }, ctx({}, { 'webhook-id': 'msg_1' })), 'hook:x:msg_1');
    assert.equal(key({ type: 'slack', secret: 's' }, ctx({ event_id: 'Ev1' }, { 'x-slack-request-timestamp': '1', 'x-slack-signature': 'v0=a' })), 'hook:x:Ev1');
    assert.equal(key({ type: 'slack', secret: 's' }, ctx('command=x', { 'x-slack-request-timestamp': '1', 'x-slack-signature': 'v0=a' })), 'hook:x:1:v0=a');
    assert.equal(key(undefined, ctx({}, {})), undefined, 'bearer: no id of its own');
    assert.equal(key(undefined, ctx({}, { 'idempotency-key': 'k-1' })), 'hook:x:k-1', 'falls back to Idempotency-Key');
  });

  test('configured as a header, a body path, a template, or none', () => {
    const key = (dedupeKey: string, context: TemplateContext) => source('x', { x: { verify: 'none', dedupeKey } }).dedupeKey(context);
    assert.equal(key('header.X-Request-Id', ctx({}, { 'x-request-id': 'r1' })), 'hook:x:r1');
    assert.equal(key('headers.x-request-id', ctx({}, { 'x-request-id': 'r1' })), 'hook:x:r1');
    assert.equal(key('body.event.id', ctx({ event: { id: 12 } })), 'hook:x:12');
    assert.equal(key('{{body.a}}-{{body.b}}', ctx({ a: 1, b: 2 })), 'hook:x:1-2');
    assert.equal(key('none', ctx({}, { 'idempotency-key': 'k' })), undefined);
    assert.equal(key('body.missing', ctx({})), undefined);
  });

  test('long ids are hashed to fit', () => {
    const key = idempotencyKeyFor('x', 'y'.repeat(1000));
    assert.ok(key.length <= 512);
    assert.match(key, /^hook:x:sha256:[0-9a-f]{64}$/);
  });
});

describe('bodies', () => {
  test('JSON, +json, forms, text, empty', () => {
    assert.deepEqual(parseBody(Buffer.from('{"a":1}'), 'application/json; charset=utf-8'), { ok: true, body: { a: 1 } });
    assert.deepEqual(parseBody(Buffer.from('\ufeff{"a":1}'), 'application/vnd.api+json'), { ok: true, body: { a: 1 } });
    assert.equal(parseBody(Buffer.from('{nope'), 'application/json').ok, false);
    const form = parseBody(Buffer.from('a=1&b=x%20y&__proto__=z'), 'application/x-www-form-urlencoded');
    assert.equal(form.ok, true);
    assert.deepEqual({ ...(form as { body: object }).body }, { a: '1', b: 'x y', ['__proto__']: 'z' });
    assert.deepEqual(parseBody(Buffer.from('hello'), 'text/plain'), { ok: true, body: 'hello' });
    assert.deepEqual(parseBody(Buffer.alloc(0), 'application/json'), { ok: true, body: undefined });
    assert.deepEqual({ ...queryMap({ a: 'x', b: ['1', '2'], c: 3 }) }, { a: 'x', b: '2' });
  });
});

describe('token bucket', () => {
  test('burst, then the sustained rate, with the wait until the next token', () => {
    const bucket = new TokenBucket(2, 3, 0);
    for (let i = 0; i < 3; i++) assert.equal(bucket.take(0).ok, true);
    const refused = bucket.take(0);
    assert.deepEqual(refused, { ok: false, retryAfterMs: 500 });
    assert.equal(bucket.take(499).ok, false);
    assert.equal(bucket.take(500).ok, true);
    assert.equal(bucket.take(10_000).ok, true, 'refilled, never beyond the burst');
    assert.equal(bucket.take(10_000).ok, true);
    assert.equal(bucket.take(10_000).ok, true);
    assert.equal(bucket.take(10_000).ok, false);
  });

  test('never admits more than burst + rate × time', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.1, max: 100, noNaN: true }), fc.integer({ min: 1, max: 50 }), fc.array(fc.integer({ min: 0, max: 2000 }), { maxLength: 300 }), (rate, burst, gaps) => {
        const bucket = new TokenBucket(rate, burst, 0);
        let now = 0;
        let admitted = 0;
        for (const gap of gaps) {
          now += gap;
          if (bucket.take(now).ok) admitted += 1;
        }
        assert.ok(admitted <= burst + (rate * now) / 1000 + 1e-9);
      }),
    );
  });
});

describe('authentication-failure brake', () => {
  test('after maxFailures in a window the address waits until the window ends; others are unaffected', () => {
    const throttle = new AuthFailureThrottle({ maxFailures: 3, windowMs: 1000 });
    for (let i = 0; i < 3; i++) {
      assert.equal(throttle.blockedFor('a', 100), undefined);
      throttle.recordFailure('a', 100);
    }
    assert.equal(throttle.blockedFor('a', 100), 1000);
    assert.equal(throttle.blockedFor('a', 600), 500);
    assert.equal(throttle.blockedFor('b', 600), undefined);
    assert.equal(throttle.blockedFor('a', 1100), undefined, 'a new window');
    throttle.recordFailure('c', 0);
    throttle.recordSuccess('c');
    assert.equal(throttle.size, 0);
  });

  test('memory is bounded: the stalest addresses are forgotten first', () => {
    const throttle = new AuthFailureThrottle({ maxFailures: 1, windowMs: 60_000, maxAddresses: 100 });
    for (let i = 0; i < 10_000; i++) throttle.recordFailure(`10.0.${i >> 8}.${i & 255}`, i);
    assert.equal(throttle.size, 100);
    assert.equal(throttle.blockedFor('10.0.0.0', 10_000), undefined, 'forgotten');
    assert.ok(throttle.blockedFor('10.0.39.15', 10_000)! > 0, 'the latest is remembered');
  });
});
