// Fuzzing the hook routes over real HTTP (the RPC endpoint is fuzzed in rpc-spec.test.ts,
// the verifiers and templates as functions in webhooks-signatures/-template.test.ts):
// random bodies, content types and signature headers never get a 5xx, never get past a
// verifier without its secret, always get a JSON error that says something, and the server
// leaks no rejection and keeps serving.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { startFakeAnthropic, type FakeAnthropic } from './support/fake-anthropic.js';
import { postRaw, startTestGateway, type TestGateway } from './support/gateway.js';
import { STANDARD_SECRET } from './support/webhooks.js';

const TOKEN = 'fuzz-http-token-61c0';

let fake: FakeAnthropic;
let gateway: TestGateway;

before(async () => {
  fake = await startFakeAnthropic();
  gateway = await startTestGateway({
    fake,
    worker: false,
    token: TOKEN,
    config: {
      webhooks: {
        github: { verify: { type: 'github', secret: 'fuzz-github-secret' } },
        stripe: { verify: { type: 'stripe', secret: 'fuzz-stripe-secret' } },
        slack: { verify: { type: 'slack', secret: 'fuzz-slack-secret' } },
        standard: { verify: { type: 'standard-webhooks', secret: STANDARD_SECRET } },
        generic: { verify: { type: 'hmac', secret: 'fuzz-hmac-secret', header: 'x-signature', algorithm: 'sha512', encoding: 'base64', prefix: 'sha512=', timestampHeader: 'x-timestamp' } },
      },
    },
  });
});
after(async () => {
  await gateway?.close();
  await fake?.close();
});

const now = () => Math.floor(Date.now() / 1000);
const hex64 = fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 64, maxLength: 64 });
const signatureHeaders = fc.record(
  {
    'x-hub-signature-256': fc.oneof(fc.string(), hex64.map((hex: string) => `sha256=${hex}`)),
    'x-github-delivery': fc.uuid(),
    'stripe-signature': fc.oneof(fc.string(), fc.tuple(fc.integer(), hex64).map(([t, v]) => `t=${now() + (t % 100)},v1=${v}`)),
    'x-slack-signature': fc.oneof(fc.string(), hex64.map((hex: string) => `v0=${hex}`)),
    'x-slack-request-timestamp': fc.oneof(fc.string(), fc.constant(String(now()))),
    'webhook-id': fc.string(),
    'webhook-timestamp': fc.oneof(fc.string(), fc.constant(String(now()))),
    'webhook-signature': fc.oneof(fc.string(), fc.base64String({ minLength: 44, maxLength: 44 }).map((b) => `v1,${b}`)),
    'x-signature': fc.oneof(fc.string(), fc.base64String({ minLength: 88, maxLength: 88 }).map((b) => `sha512=${b}`)),
    'x-timestamp': fc.oneof(fc.string(), fc.constant(String(now()))),
    authorization: fc.oneof(fc.string(), fc.string().map((t) => `Bearer ${t}`)),
  },
  { requiredKeys: [] },
);
const contentType = fc.constantFrom('application/json', 'application/x-www-form-urlencoded', 'text/plain', 'application/json; charset=latin1', 'multipart/form-data; boundary=x', '', 'application/octet-stream');
const body = fc.oneof(
  fc.jsonValue().map((value) => JSON.stringify(value) ?? ''),
  fc.string(),
  fc.uint8Array({ maxLength: 256 }).map((bytes) => Buffer.from(bytes)),
  fc.constantFrom('{"message":', '{"__proto__":{"x":1}}', '[]', 'null', 'a=1&b=2', '{"constructor":{"prototype":{}}}'),
);
/** Header values HTTP can carry: no control characters. */
const printable = (headers: Record<string, string>) => Object.fromEntries(Object.entries(headers).filter(([, value]) => /^[\x20-\x7e]*$/.test(value)));

test('random deliveries to signed sources: 4xx with a JSON error, never 5xx, never accepted', async () => {
  const leaks: unknown[] = [];
  const onRejection = (reason: unknown) => leaks.push(reason);
  process.on('unhandledRejection', onRejection);
  const statuses = new Map<number, number>();
  try {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('github', 'stripe', 'slack', 'standard', 'generic'), signatureHeaders, contentType, body, async (source, headers, type, payload) => {
        const res = await postRaw(`${gateway.url}/hooks/${source}`, payload, printable({ ...headers, ...(type ? { 'content-type': type } : {}) }));
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        // 429 once this address has failed too often: the brake, which is the point.
        assert.ok([401, 429].includes(res.status), `${source}: ${res.status} ${JSON.stringify(res.body)}`);
        assert.equal(typeof res.body?.error?.message, 'string');
      }),
      { numRuns: 300 },
    );
  } finally {
    process.off('unhandledRejection', onRejection);
  }
  assert.deepEqual(leaks, []);
  assert.equal((await fetch(`${gateway.url}/healthz`)).status, 200);
});

test('random bodies to /hooks/agent with the right token: 400/413/415 with a JSON error, never 5xx', async () => {
  const leaks: unknown[] = [];
  const onRejection = (reason: unknown) => leaks.push(reason);
  process.on('unhandledRejection', onRejection);
  // Never a valid message: no workflow is started by the fuzzing.
  const invalidBody = fc.oneof(
    body,
    fc.record({ message: fc.oneof(fc.constant(''), fc.integer(), fc.constant(null), fc.array(fc.string())), sessionKey: fc.string(), agent: fc.string(), mode: fc.string(), deliver: fc.jsonValue() }, { requiredKeys: [] }).map((value) => JSON.stringify(value)),
  ).filter((text) => {
    try {
      const parsed = JSON.parse(typeof text === 'string' ? text : text.toString('utf8'));
      return !(parsed && typeof parsed === 'object' && typeof parsed.message === 'string' && parsed.message.length > 0);
    } catch {
      return true;
    }
  });
  try {
    await fc.assert(
      fc.asyncProperty(contentType, invalidBody, async (type, payload) => {
        const res = await postRaw(`${gateway.url}/hooks/agent`, payload, { authorization: `Bearer ${TOKEN}`, ...(type ? { 'content-type': type } : {}) });
        assert.ok(res.status >= 400 && res.status < 500, `${res.status} ${JSON.stringify(res.body)} for ${JSON.stringify(String(payload))}`);
        assert.equal(typeof res.body?.error?.message, 'string', JSON.stringify(res.body));
      }),
      { numRuns: 300 },
    );
  } finally {
    process.off('unhandledRejection', onRejection);
  }
  assert.deepEqual(leaks, []);
  assert.equal((await fetch(`${gateway.url}/healthz`)).status, 200);
});
