// Signature schemes, checked against the providers' documented algorithms and published
// test vectors; signatures here are computed with node:crypto straight from the docs, not
// with the code under test.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  decodeBase64,
  decodeHex,
  signStandardWebhook,
  verifyBearer,
  verifyGenericHmac,
  verifyGithub,
  verifySlack,
  verifyStandardWebhook,
  verifyStripe,
  type GenericHmacOptions,
  type Headers,
} from '../api/webhooks/signatures.js';

const NOW = Date.UTC(2024, 0, 1, 12);
const nowSeconds = Math.floor(NOW / 1000);
const input = (headers: Headers, body: string | Buffer, now = NOW) => ({ headers, body: Buffer.isBuffer(body) ? body : Buffer.from(body), now });
const hex = (key: string | Buffer, text: string) => createHmac('sha256', key).update(text).digest('hex');

describe('github (X-Hub-Signature-256)', () => {
  // docs.github.com, "Validating webhook deliveries": the documented test values.
  const secret = "It's a Secret to Everybody";
  const vector = 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';

  test('the documented test vector verifies', () => {
    assert.deepEqual(verifyGithub(input({ 'x-hub-signature-256': vector }, 'Hello, World!'), [secret]), { ok: true });
  });

  test('tampered body, wrong secret, wrong prefix, missing header and bad hex fail', () => {
    assert.equal(verifyGithub(input({ 'x-hub-signature-256': vector }, 'Hello, World?'), [secret]).ok, false);
    assert.equal(verifyGithub(input({ 'x-hub-signature-256': vector }, 'Hello, World!'), ['another secret']).ok, false);
    assert.equal(verifyGithub(input({ 'x-hub-signature-256': vector.replace('sha256=', 'sha1=') }, 'Hello, World!'), [secret]).ok, false);
    assert.equal(verifyGithub(input({}, 'Hello, World!'), [secret]).ok, false);
    assert.equal(verifyGithub(input({ 'x-hub-signature-256': `${vector.slice(0, -2)}zz` }, 'Hello, World!'), [secret]).ok, false);
    assert.equal(verifyGithub(input({ 'x-hub-signature-256': vector.slice(0, -2) }, 'Hello, World!'), [secret]).ok, false);
  });

  test('rotation: any of several secrets', () => {
    assert.equal(verifyGithub(input({ 'x-hub-signature-256': vector }, 'Hello, World!'), ['old', secret]).ok, true);
    assert.equal(verifyGithub(input({ 'x-hub-signature-256': vector }, 'Hello, World!'), [secret, 'new']).ok, true);
  });
});

describe('stripe (Stripe-Signature)', () => {
  // Stripe's docs: signed_payload = `${t}.${body}`, HMAC-SHA256 with the endpoint secret, hex, in v1=.
  const secret = 'whsec_test_stripe_secret';
  const body = '{"id":"evt_1","object":"event","type":"payment_intent.succeeded"}';
  const header = (t: number, ...signatures: string[]) => ({ 'stripe-signature': [`t=${t}`, ...signatures.map((s) => `v1=${s}`), 'v0=6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39'].join(',') });

  test('a signature per the docs verifies, also among several v1 entries', () => {
    const good = hex(secret, `${nowSeconds}.${body}`);
    assert.deepEqual(verifyStripe(input(header(nowSeconds, good), body), [secret]), { ok: true });
    assert.deepEqual(verifyStripe(input(header(nowSeconds, 'ab'.repeat(32), good), body), [secret]), { ok: true });
  });

  test('tampered body, wrong secret, stale or future timestamp, missing parts fail', () => {
    const good = hex(secret, `${nowSeconds}.${body}`);
    assert.equal(verifyStripe(input(header(nowSeconds, good), body.replace('evt_1', 'evt_2')), [secret]).ok, false);
    assert.equal(verifyStripe(input(header(nowSeconds, good), body), ['whsec_other']).ok, false);
    const stale = nowSeconds - 301;
    const staleResult = verifyStripe(input(header(stale, hex(secret, `${stale}.${body}`)), body), [secret]);
    assert.equal(staleResult.ok, false);
    assert.match((staleResult as { reason: string }).reason, /timestamp/);
    const future = nowSeconds + 301;
    assert.equal(verifyStripe(input(header(future, hex(secret, `${future}.${body}`)), body), [secret]).ok, false);
    assert.equal(verifyStripe(input({ 'stripe-signature': `v1=${good}` }, body), [secret]).ok, false);
    assert.equal(verifyStripe(input({ 'stripe-signature': `t=${nowSeconds}` }, body), [secret]).ok, false);
    // The timestamp is part of what is signed: changing it breaks the signature.
    assert.equal(verifyStripe(input(header(nowSeconds - 1, good), body), [secret]).ok, false);
  });

  test('tolerance is configurable', () => {
    const old = nowSeconds - 3600;
    assert.equal(verifyStripe(input(header(old, hex(secret, `${old}.${body}`)), body), [secret], 2 * 3600_000).ok, true);
  });
});

describe('slack (X-Slack-Signature)', () => {
  // api.slack.com "Verifying requests from Slack": the documented example request.
  const secret = '8f742231b10e8888abcd99yyyzzz85a5';
  const timestamp = '1531420618';
  const body =
    'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
  const signature = 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503';
  const then = 1531420618 * 1000;

  test('the documented example verifies at its own time', () => {
    const headers = { 'x-slack-signature': signature, 'x-slack-request-timestamp': timestamp };
    assert.deepEqual(verifySlack(input(headers, body, then + 1000), [secret]), { ok: true });
  });

  test('the same request replayed later is stale', () => {
    const headers = { 'x-slack-signature': signature, 'x-slack-request-timestamp': timestamp };
    const result = verifySlack(input(headers, body, then + 6 * 60_000), [secret]);
    assert.equal(result.ok, false);
    assert.match((result as { reason: string }).reason, /timestamp/);
  });

  test('tampered body, wrong secret, missing timestamp fail', () => {
    const headers = { 'x-slack-signature': signature, 'x-slack-request-timestamp': timestamp };
    assert.equal(verifySlack(input(headers, body.replace('roadrunner', 'coyote'), then), [secret]).ok, false);
    assert.equal(verifySlack(input(headers, body, then), ['0'.repeat(32)]).ok, false);
    assert.equal(verifySlack(input({ 'x-slack-signature': signature }, body, then), [secret]).ok, false);
    assert.equal(verifySlack(input({ ...headers, 'x-slack-request-timestamp': '1531420619' }, body, then), [secret]).ok, false);
  });
});

describe('standard-webhooks', () => {
  // github.com/standard-webhooks/standard-webhooks, libraries/javascript/src/webhook.test.ts ("sign function works").
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  const id = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
  const timestamp = 1614265330;
  const payload = '{"test": 2432232314}';
  const expected = 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=';
  const headers = (signature: string, ts = timestamp, msgId = id) => ({ 'webhook-id': msgId, 'webhook-timestamp': String(ts), 'webhook-signature': signature });

  test('signing reproduces the published vector, with or without the whsec_ prefix', () => {
    assert.equal(signStandardWebhook(secret, id, timestamp, payload), expected);
    assert.equal(signStandardWebhook(secret.slice('whsec_'.length), id, timestamp, payload), expected);
  });

  test('the published vector verifies at its time; several signatures, other versions ignored', () => {
    assert.deepEqual(verifyStandardWebhook(input(headers(expected), payload, timestamp * 1000), [secret]), { ok: true });
    const many = ['v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=', 'v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=', expected].join(' ');
    assert.deepEqual(verifyStandardWebhook(input(headers(many), payload, timestamp * 1000), [secret]), { ok: true });
    assert.equal(verifyStandardWebhook(input(headers(expected.replace('v1,', 'v2,')), payload, timestamp * 1000), [secret]).ok, false);
  });

  test('old and new timestamps fail (5 minutes either way)', () => {
    assert.equal(verifyStandardWebhook(input(headers(expected), payload, (timestamp + 301) * 1000), [secret]).ok, false);
    assert.equal(verifyStandardWebhook(input(headers(expected), payload, (timestamp - 301) * 1000), [secret]).ok, false);
  });

  test('tampered body or id, wrong secret, partial or missing signature fail', () => {
    const at = timestamp * 1000;
    assert.equal(verifyStandardWebhook(input(headers(expected), '{"test": 2432232315}', at), [secret]).ok, false);
    assert.equal(verifyStandardWebhook(input(headers(expected, timestamp, 'msg_other'), payload, at), [secret]).ok, false);
    assert.equal(verifyStandardWebhook(input(headers(expected), payload, at), ['whsec_' + Buffer.from('another key of 24 bytes!').toString('base64')]).ok, false);
    assert.equal(verifyStandardWebhook(input(headers(expected.slice(0, 8)), payload, at), [secret]).ok, false);
    assert.equal(verifyStandardWebhook(input(headers('v1,'), payload, at), [secret]).ok, false);
    assert.equal(verifyStandardWebhook(input({ 'webhook-id': id, 'webhook-timestamp': String(timestamp) }, payload, at), [secret]).ok, false);
    assert.equal(verifyStandardWebhook(input({ ...headers(expected), 'webhook-timestamp': 'hello' }, payload, at), [secret]).ok, false);
  });
});

describe('generic hmac', () => {
  const base: GenericHmacOptions = { header: 'x-signature', algorithm: 'sha256', encoding: 'hex', prefix: '', signedPayload: '{body}', toleranceMs: 300_000 };
  const body = '{"event":"ping"}';

  test('each algorithm and encoding, with a prefix', () => {
    for (const algorithm of ['sha1', 'sha256', 'sha512'] as const) {
      for (const encoding of ['hex', 'base64'] as const) {
        const signature = createHmac(algorithm, 'k3y').update(body).digest(encoding);
        const options = { ...base, algorithm, encoding, prefix: `${algorithm}=` };
        assert.deepEqual(verifyGenericHmac(input({ 'x-signature': `${algorithm}=${signature}` }, body), ['k3y'], options), { ok: true }, `${algorithm} ${encoding}`);
        assert.equal(verifyGenericHmac(input({ 'x-signature': `${algorithm}=${signature}` }, `${body} `), ['k3y'], options).ok, false);
        assert.equal(verifyGenericHmac(input({ 'x-signature': signature }, body), ['k3y'], options).ok, false, 'prefix required');
      }
    }
  });

  test('a signed timestamp header is checked against the tolerance', () => {
    const options = { ...base, timestampHeader: 'x-timestamp', signedPayload: '{timestamp}.{body}' };
    const sign = (ts: number) => hex('k3y', `${ts}.${body}`);
    assert.deepEqual(verifyGenericHmac(input({ 'x-signature': sign(nowSeconds), 'x-timestamp': String(nowSeconds) }, body), ['k3y'], options), { ok: true });
    assert.equal(verifyGenericHmac(input({ 'x-signature': sign(nowSeconds - 400), 'x-timestamp': String(nowSeconds - 400) }, body), ['k3y'], options).ok, false);
    assert.equal(verifyGenericHmac(input({ 'x-signature': sign(nowSeconds) }, body), ['k3y'], options).ok, false);
    // Millisecond timestamps are recognised by their size.
    const ms = NOW - 1000;
    assert.deepEqual(verifyGenericHmac(input({ 'x-signature': hex('k3y', `${ms}.${body}`), 'x-timestamp': String(ms) }, body), ['k3y'], options), { ok: true });
  });
});

describe('bearer', () => {
  test('Authorization: Bearer, or the bare token in another header; any of several tokens', () => {
    assert.deepEqual(verifyBearer(input({ authorization: 'Bearer t0ken' }, ''), ['t0ken']), { ok: true });
    assert.deepEqual(verifyBearer(input({ authorization: 'bearer t0ken' }, ''), ['old', 't0ken']), { ok: true });
    assert.equal(verifyBearer(input({ authorization: 'Bearer t0ke' }, ''), ['t0ken']).ok, false);
    assert.equal(verifyBearer(input({ authorization: 't0ken' }, ''), ['t0ken']).ok, false);
    assert.equal(verifyBearer(input({}, ''), ['t0ken']).ok, false);
    assert.deepEqual(verifyBearer(input({ 'x-gitlab-token': 't0ken' }, ''), ['t0ken'], 'x-gitlab-token'), { ok: true });
    assert.equal(verifyBearer(input({ 'x-gitlab-token': 'Bearer t0ken' }, ''), ['t0ken'], 'x-gitlab-token').ok, false);
  });
});

describe('decoding is strict', () => {
  test('hex and base64', () => {
    assert.equal(decodeHex('abc'), undefined);
    assert.equal(decodeHex('zz'), undefined);
    assert.deepEqual(decodeHex('00ff'), Buffer.from([0, 255]));
    assert.equal(decodeBase64('a'), undefined);
    assert.equal(decodeBase64('a b='), undefined);
    assert.deepEqual(decodeBase64('AP8='), Buffer.from([0, 255]));
    assert.deepEqual(decodeBase64('AP8'), Buffer.from([0, 255]));
  });
});

describe('properties', () => {
  const headerValues = fc.oneof(fc.string(), fc.array(fc.string(), { maxLength: 3 }), fc.constant(undefined));
  const anyHeaders = fc.record({
    'x-hub-signature-256': headerValues,
    'stripe-signature': headerValues,
    'x-slack-signature': headerValues,
    'x-slack-request-timestamp': headerValues,
    'webhook-id': headerValues,
    'webhook-timestamp': headerValues,
    'webhook-signature': headerValues,
    'x-signature': headerValues,
    'x-timestamp': headerValues,
    authorization: headerValues,
  });
  const secrets = fc.array(fc.string({ minLength: 1 }), { minLength: 1, maxLength: 3 });

  test('no verifier throws on arbitrary headers, bodies and secrets; none accepts random input', () => {
    fc.assert(
      fc.property(anyHeaders, fc.uint8Array({ maxLength: 256 }), secrets, fc.integer({ min: 0, max: 4_102_444_800_000 }), (headers, bytes, keys, now) => {
        const request = { headers: headers as Headers, body: Buffer.from(bytes), now };
        const results = [
          verifyGithub(request, keys),
          verifyStripe(request, keys),
          verifySlack(request, keys),
          verifyStandardWebhook(request, ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', ...keys]),
          verifyGenericHmac(request, keys, { header: 'x-signature', algorithm: 'sha512', encoding: 'base64', prefix: '', timestampHeader: 'x-timestamp', signedPayload: '{timestamp}{body}', toleranceMs: 1000 }),
        ];
        for (const result of results) assert.equal(result.ok, false);
        verifyBearer(request, keys);
      }),
      { numRuns: 500 },
    );
  });

  test('github: a body signed with the secret verifies, and any change to it does not', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 512 }), fc.string({ minLength: 1 }), fc.nat(), (bytes, secret, flip) => {
        const body = Buffer.from(bytes);
        const signature = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
        assert.equal(verifyGithub({ headers: { 'x-hub-signature-256': signature }, body, now: NOW }, [secret]).ok, true);
        const tampered = Buffer.from(body);
        tampered[flip % tampered.length] = tampered[flip % tampered.length]! ^ (1 << flip % 8);
        assert.equal(verifyGithub({ headers: { 'x-hub-signature-256': signature }, body: tampered, now: NOW }, [secret]).ok, false);
      }),
      { numRuns: 200 },
    );
  });
});
