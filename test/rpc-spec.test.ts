// JSON-RPC 2.0 to the letter on /rpc: every example of the specification's "Examples"
// section (https://www.jsonrpc.org/specification#examples), run against test-only methods
// registered on this gateway; then fuzzing of frames with fast-check; then the limits
// (rate, batch, frame size).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import WebSocket from 'ws';
import { z } from 'zod';
import { defineMethod } from '../api/rpc/method.js';
import { RpcClient } from '../client/rpc-client.js';
import { startFakeAnthropic, type FakeAnthropic } from './support/fake-anthropic.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';
import { isSpecResponse, RawRpc } from './support/rpc.js';

/** Notifications the test methods received, in order. */
const notified: { method: string; params: unknown }[] = [];
const Numbers = z.array(z.number());

const specMethods = [
  defineMethod({
    name: 'subtract',
    description: 'The specification\'s example: positional [minuend, subtrahend] or named.',
    params: z.union([z.tuple([z.number(), z.number()]), z.strictObject({ minuend: z.number(), subtrahend: z.number() })]),
    result: z.number(),
    handler: (params) => (Array.isArray(params) ? params[0] - params[1] : params.minuend - params.subtrahend),
  }),
  defineMethod({
    name: 'sum',
    description: 'Adds its positional params.',
    params: Numbers,
    result: z.number(),
    handler: (params) => params.reduce((a, b) => a + b, 0),
  }),
  defineMethod({
    name: 'get_data',
    description: 'Answers ["hello", 5].',
    params: z.strictObject({}),
    result: z.tuple([z.string(), z.number()]),
    handler: () => ['hello', 5] as [string, number],
  }),
  defineMethod({
    name: 'explode',
    description: 'Fails the way a bug does.',
    params: z.strictObject({}),
    result: z.null(),
    handler: () => {
      throw new Error('database password is hunter2');
    },
  }),
  defineMethod({
    name: 'misshapen',
    description: 'Returns a result outside its own schema.',
    params: z.strictObject({}),
    result: z.object({ ok: z.boolean() }),
    handler: () => ({ ok: 'password: hunter2' }) as unknown as { ok: boolean },
  }),
  ...(['update', 'notify_hello', 'notify_sum'] as const).map((name) =>
    defineMethod({
      name,
      description: 'Records the call.',
      params: z.array(z.unknown()),
      result: z.null(),
      handler: (params) => {
        notified.push({ method: name, params });
        return null;
      },
    }),
  ),
];

let fake: FakeAnthropic;
let gateway: TestGateway;
let rpc: RawRpc;

before(async () => {
  fake = await startFakeAnthropic();
  gateway = await startTestGateway({
    fake,
    worker: false,
    extraRpcMethods: specMethods,
    // The internal errors provoked below are logged at error level: keep the report clean.
    config: { log: { level: 'fatal' }, gateway: { rpc: { rateLimit: { requestsPerSecond: 1_000_000, burst: 1_000_000 } } } },
  });
  rpc = await RawRpc.open(gateway.rpcUrl);
});
after(async () => {
  await rpc?.close();
  await gateway?.close();
  await fake?.close();
});

/** The answer without `error.data`, which the specification's examples leave out. */
function withoutData(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutData);
  const response = value as { error?: { code: number; message: string } };
  if (!response?.error) return value;
  return { ...response, error: { code: response.error.code, message: response.error.message } };
}

async function answer(frame: string | Buffer): Promise<unknown> {
  const answers = await rpc.exchange(frame);
  assert.ok(answers.length <= 1, `one frame answers one frame, got ${JSON.stringify(answers)}`);
  return answers.length === 0 ? undefined : withoutData(answers[0]);
}

describe('the specification\'s examples', () => {
  test('rpc call with positional parameters', async () => {
    assert.deepEqual(await answer('{"jsonrpc": "2.0", "method": "subtract", "params": [42, 23], "id": 1}'), { jsonrpc: '2.0', result: 19, id: 1 });
    assert.deepEqual(await answer('{"jsonrpc": "2.0", "method": "subtract", "params": [23, 42], "id": 2}'), { jsonrpc: '2.0', result: -19, id: 2 });
  });

  test('rpc call with named parameters', async () => {
    assert.deepEqual(await answer('{"jsonrpc": "2.0", "method": "subtract", "params": {"subtrahend": 23, "minuend": 42}, "id": 3}'), {
      jsonrpc: '2.0',
      result: 19,
      id: 3,
    });
    assert.deepEqual(await answer('{"jsonrpc": "2.0", "method": "subtract", "params": {"minuend": 42, "subtrahend": 23}, "id": 4}'), {
      jsonrpc: '2.0',
      result: 19,
      id: 4,
    });
  });

  test('a notification', async () => {
    const before = notified.length;
    assert.equal(await answer('{"jsonrpc": "2.0", "method": "update", "params": [1,2,3,4,5]}'), undefined);
    assert.equal(await answer('{"jsonrpc": "2.0", "method": "foobar"}'), undefined);
    assert.deepEqual(notified.slice(before), [{ method: 'update', params: [1, 2, 3, 4, 5] }]);
  });

  test('rpc call of non-existent method', async () => {
    assert.deepEqual(await answer('{"jsonrpc": "2.0", "method": "foobar", "id": "1"}'), {
      jsonrpc: '2.0',
      error: { code: -32601, message: 'Method not found' },
      id: '1',
    });
  });

  test('rpc call with invalid JSON', async () => {
    assert.deepEqual(await answer('{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]'), {
      jsonrpc: '2.0',
      error: { code: -32700, message: 'Parse error' },
      id: null,
    });
  });

  test('rpc call with invalid Request object', async () => {
    assert.deepEqual(await answer('{"jsonrpc": "2.0", "method": 1, "params": "bar"}'), {
      jsonrpc: '2.0',
      error: { code: -32600, message: 'Invalid Request' },
      id: null,
    });
  });

  test('rpc call Batch, invalid JSON', async () => {
    const frame = `[
      {"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},
      {"jsonrpc": "2.0", "method"
    ]`;
    assert.deepEqual(await answer(frame), { jsonrpc: '2.0', error: { code: -32700, message: 'Parse error' }, id: null });
  });

  test('rpc call with an empty Array', async () => {
    assert.deepEqual(await answer('[]'), { jsonrpc: '2.0', error: { code: -32600, message: 'Invalid Request' }, id: null });
  });

  test('rpc call with an invalid Batch (but not empty)', async () => {
    assert.deepEqual(await answer('[1]'), [{ jsonrpc: '2.0', error: { code: -32600, message: 'Invalid Request' }, id: null }]);
  });

  test('rpc call with invalid Batch', async () => {
    const invalid = { jsonrpc: '2.0', error: { code: -32600, message: 'Invalid Request' }, id: null };
    assert.deepEqual(await answer('[1,2,3]'), [invalid, invalid, invalid]);
  });

  test('rpc call Batch', async () => {
    const before = notified.length;
    const frame = `[
      {"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},
      {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]},
      {"jsonrpc": "2.0", "method": "subtract", "params": [42,23], "id": "2"},
      {"foo": "boo"},
      {"jsonrpc": "2.0", "method": "foo.get", "params": {"name": "myself"}, "id": "5"},
      {"jsonrpc": "2.0", "method": "get_data", "id": "9"}
    ]`;
    assert.deepEqual(await answer(frame), [
      { jsonrpc: '2.0', result: 7, id: '1' },
      { jsonrpc: '2.0', result: 19, id: '2' },
      { jsonrpc: '2.0', error: { code: -32600, message: 'Invalid Request' }, id: null },
      { jsonrpc: '2.0', error: { code: -32601, message: 'Method not found' }, id: '5' },
      { jsonrpc: '2.0', result: ['hello', 5], id: '9' },
    ]);
    assert.deepEqual(notified.slice(before), [{ method: 'notify_hello', params: [7] }]);
  });

  test('rpc call Batch (all notifications)', async () => {
    const before = notified.length;
    const frame = `[
      {"jsonrpc": "2.0", "method": "notify_sum", "params": [1,2,4]},
      {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]}
    ]`;
    assert.equal(await answer(frame), undefined);
    assert.deepEqual(
      notified.slice(before).sort((a, b) => a.method.localeCompare(b.method)),
      [
        { method: 'notify_hello', params: [7] },
        { method: 'notify_sum', params: [1, 2, 4] },
      ],
    );
  });
});

describe('details the examples leave open', () => {
  test('ids may be strings, numbers or null, and are echoed exactly', async () => {
    for (const id of ['abc', '', 0, -7, 3.5, 1e21, null]) {
      assert.deepEqual(await answer(JSON.stringify({ jsonrpc: '2.0', method: 'sum', params: [1], id })), { jsonrpc: '2.0', result: 1, id });
    }
  });

  test('an invalid request keeps a valid id; an invalid id becomes null', async () => {
    assert.deepEqual(await answer('{"jsonrpc": "1.0", "method": "sum", "id": 12}'), { jsonrpc: '2.0', error: { code: -32600, message: 'Invalid Request' }, id: 12 });
    assert.deepEqual(await answer('{"jsonrpc": "2.0", "method": "sum", "id": {"a": 1}}'), { jsonrpc: '2.0', error: { code: -32600, message: 'Invalid Request' }, id: null });
    assert.deepEqual(await answer('{"jsonrpc": "2.0", "method": "sum", "params": 3, "id": 13}'), { jsonrpc: '2.0', error: { code: -32600, message: 'Invalid Request' }, id: 13 });
  });

  test('invalid params name the failing path in error.data.issues', async () => {
    const [response] = (await rpc.exchange({ jsonrpc: '2.0', method: 'subtract', params: { minuend: 'x', subtrahend: 1 }, id: 'p' })) as any[];
    assert.equal(response.error.code, -32602);
    assert.equal(response.error.message.startsWith('Invalid params'), true);
    assert.ok(Array.isArray(response.error.data.issues));
    const [sessionKeyError] = (await rpc.exchange({ jsonrpc: '2.0', method: 'sessions.get', params: { sessionKey: 'nope' }, id: 'q' })) as any[];
    assert.equal(sessionKeyError.error.code, -32602);
    assert.deepEqual(sessionKeyError.error.data.issues[0].path, ['sessionKey']);
    const [unknownKey] = (await rpc.exchange({ jsonrpc: '2.0', method: 'gateway.health', params: { extra: 1 }, id: 'r' })) as any[];
    assert.equal(unknownKey.error.code, -32602);
  });

  test('an internal error reveals nothing but an id to find it in the log', async () => {
    for (const method of ['explode', 'misshapen']) {
      const [response] = (await rpc.exchange({ jsonrpc: '2.0', method, id: method })) as any[];
      assert.equal(response.error.code, -32603);
      assert.equal(response.error.message, 'Internal error');
      assert.deepEqual(Object.keys(response.error.data), ['errorId']);
      assert.ok(!JSON.stringify(response).includes('hunter2'));
    }
  });

  test('a method name beginning with "rpc." is never found', async () => {
    assert.deepEqual(await answer('{"jsonrpc": "2.0", "method": "rpc.discover", "id": 1}'), { jsonrpc: '2.0', error: { code: -32601, message: 'Method not found' }, id: 1 });
  });

  test('a binary frame is read as UTF-8 text', async () => {
    assert.deepEqual(await answer(Buffer.from('{"jsonrpc":"2.0","method":"sum","params":[2,3],"id":"bin"}')), {
      jsonrpc: '2.0',
      result: 5,
      id: 'bin',
    });
  });

  test('the typed client calls, batches and notifies', async () => {
    const client = await RpcClient.connect(gateway.rpcUrl);
    const health = await client.call('gateway.health');
    assert.equal(health.ok, true);
    assert.equal(await client.call('subtract', [5, 3]), 2);
    const responses = await client.batch([{ method: 'sum', params: [1, 1] }, { method: 'notify_hello', params: [1], notification: true }, { method: 'nope' }]);
    assert.equal(responses.length, 2);
    assert.deepEqual((responses[0] as { result: unknown }).result, 2);
    assert.equal((responses[1] as { error: { code: number } }).error.code, -32601);
    await client.close();
  });
});

// ---------------------------------------------------------------------------------------
// Fuzzing: whatever the frame, the server answers with spec-shaped responses (or nothing
// where the specification says nothing), never crashes and never leaks a rejection.

type Expected = { kind: 'none' } | { kind: 'single'; id: unknown } | { kind: 'batch'; ids: unknown[] };

const isPlainObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);
const isValidId = (value: unknown) => value === null || typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value));
const isNotification = (value: unknown) =>
  isPlainObject(value) &&
  value.jsonrpc === '2.0' &&
  typeof value.method === 'string' &&
  !Object.hasOwn(value, 'id') &&
  (!Object.hasOwn(value, 'params') || Array.isArray(value.params) || isPlainObject(value.params));
const expectedId = (value: unknown) => (isPlainObject(value) && Object.hasOwn(value, 'id') && isValidId(value.id) ? value.id : null);

function expectedAnswer(text: string, maxBatch: number): Expected {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { kind: 'single', id: null };
  }
  if (Array.isArray(parsed)) {
    if (parsed.length === 0 || parsed.length > maxBatch) return { kind: 'single', id: null };
    const ids = parsed.filter((element) => !isNotification(element)).map(expectedId);
    return ids.length === 0 ? { kind: 'none' } : { kind: 'batch', ids };
  }
  return isNotification(parsed) ? { kind: 'none' } : { kind: 'single', id: expectedId(parsed) };
}

// Cheap methods only: the sentinel must never overtake an answer.
const methodArb = fc.oneof(
  fc.constantFrom('subtract', 'sum', 'get_data', 'update', 'notify_hello', 'gateway.health', 'config.get', 'sessions.unsubscribe', 'foobar', 'rpc.x', ''),
  fc.string(),
);
const idArb = fc.oneof(fc.string(), fc.integer(), fc.double(), fc.constant(null), fc.boolean(), fc.object(), fc.constant(undefined));
const paramsArb = fc.oneof(
  fc.constant(undefined),
  fc.jsonValue(),
  fc.array(fc.integer()),
  fc.tuple(fc.integer(), fc.integer()),
  fc.record({ minuend: fc.integer(), subtrahend: fc.integer() }),
  fc.record({ path: fc.constantFrom('gateway', 'gateway.rpc', 'nope.nope', '..') }),
  fc.dictionary(fc.string(), fc.jsonValue()),
);
const requestArb = fc.record(
  {
    jsonrpc: fc.oneof(fc.constant('2.0'), fc.constant('2.0'), fc.jsonValue()),
    method: fc.oneof(methodArb, methodArb, fc.jsonValue()),
    params: paramsArb,
    id: idArb,
  },
  { requiredKeys: [] },
);
const elementArb = fc.oneof({ weight: 4, arbitrary: requestArb }, { weight: 1, arbitrary: fc.jsonValue() });
const frameArb = fc.oneof(
  { weight: 4, arbitrary: elementArb.map((element) => JSON.stringify(element) ?? 'undefined') },
  { weight: 3, arbitrary: fc.array(elementArb, { maxLength: 8 }).map((elements) => JSON.stringify(elements)) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary' }) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)) },
  { weight: 1, arbitrary: fc.constantFrom('[]', '[1]', 'null', '{}', '"x"', '[[]]', '[{}]', '{"jsonrpc":"2.0","method":"sum","params":[1]') },
);

describe('fuzzing', () => {
  test('every frame gets spec-shaped responses with the right ids, or none where the specification says none', async () => {
    const leaks: unknown[] = [];
    const onRejection = (reason: unknown) => leaks.push(reason);
    process.on('unhandledRejection', onRejection);
    const fuzz = await RawRpc.open(gateway.rpcUrl);
    const maxBatch = gateway.config.gateway.rpc.maxBatch;
    try {
      await fc.assert(
        fc.asyncProperty(frameArb, async (frame) => {
          const text = Buffer.isBuffer(frame) ? frame.toString('utf8') : Buffer.from(frame, 'utf8').toString('utf8');
          const expected = expectedAnswer(text, maxBatch);
          const answers = await fuzz.exchange(frame);
          if (expected.kind === 'none') {
            assert.deepEqual(answers, []);
            return;
          }
          assert.equal(answers.length, 1, `one answer for ${JSON.stringify(text)}`);
          const [only] = answers;
          if (expected.kind === 'single') {
            assert.ok(isSpecResponse(only), `spec-shaped: ${JSON.stringify(only)}`);
            assert.deepEqual((only as { id: unknown }).id, expected.id);
            return;
          }
          assert.ok(Array.isArray(only), `a batch is answered with an array: ${JSON.stringify(only)}`);
          assert.equal(only.length, expected.ids.length);
          only.forEach((response, index) => {
            assert.ok(isSpecResponse(response), `spec-shaped: ${JSON.stringify(response)}`);
            assert.deepEqual((response as { id: unknown }).id, expected.ids[index]);
          });
        }),
        { numRuns: 1000 },
      );
    } finally {
      process.off('unhandledRejection', onRejection);
      await fuzz.close();
    }
    assert.deepEqual(leaks, []);
    assert.equal((await answer('{"jsonrpc":"2.0","method":"gateway.health","id":"still-here"}') as { result: { ok: boolean } }).result.ok, true);
  });
});

describe('limits', () => {
  test('a batch longer than gateway.rpc.maxBatch is one -32600', async () => {
    const max = gateway.config.gateway.rpc.maxBatch;
    const batch = Array.from({ length: max + 1 }, (_, i) => ({ jsonrpc: '2.0', method: 'sum', params: [i], id: i }));
    const answered = (await answer(JSON.stringify(batch))) as { error: { code: number } };
    assert.equal(answered.error.code, -32600);
    const full = (await answer(JSON.stringify(batch.slice(0, max)))) as unknown[];
    assert.equal(full.length, max);
  });

  test('over the rate limit: -32029 with data.retryAfterMs; notifications are dropped; the bucket refills', async () => {
    const limited = await startTestGateway({
      fake,
      worker: false,
      extraRpcMethods: specMethods,
      config: { gateway: { rpc: { rateLimit: { requestsPerSecond: 2, burst: 5 } } } },
    });
    try {
      const client = await RawRpc.open(limited.rpcUrl);
      const batch = Array.from({ length: 8 }, (_, i) => ({ jsonrpc: '2.0', method: 'sum', params: [i], id: i }));
      client.send(batch);
      await client.until(() => client.received.length >= 1);
      const responses = client.received[0] as any[];
      assert.equal(responses.length, 8);
      const ok = responses.filter((r) => 'result' in r);
      const limitedOnes = responses.filter((r) => r.error?.code === -32029);
      assert.equal(ok.length, 5);
      assert.equal(limitedOnes.length, 3);
      for (const response of limitedOnes) {
        assert.equal(response.error.message, 'Rate limited');
        assert.ok(Number.isInteger(response.error.data.retryAfterMs) && response.error.data.retryAfterMs > 0);
      }
      // A notification now finds the bucket empty: dropped, not run, not answered.
      const before = notified.length;
      client.send({ jsonrpc: '2.0', method: 'notify_hello', params: ['dropped'] });
      // Later, the bucket has refilled: wait as long as the server said.
      await new Promise((resolve) => setTimeout(resolve, Math.max(...limitedOnes.map((r) => r.error.data.retryAfterMs))));
      client.send({ jsonrpc: '2.0', method: 'sum', params: [1], id: 'later' });
      await client.until(() => client.received.length >= 2);
      assert.deepEqual(client.received[1], { jsonrpc: '2.0', result: 1, id: 'later' });
      assert.equal(client.received.length, 2);
      assert.deepEqual(notified.slice(before), []);
      await client.close();
    } finally {
      await limited.close();
    }
  });

  test('a frame over gateway.rpc.maxFrameBytes closes the connection with 1009', async () => {
    const big = await RawRpc.open(gateway.rpcUrl);
    big.send(JSON.stringify({ jsonrpc: '2.0', method: 'sum', params: [1], id: 'x'.repeat(gateway.config.gateway.rpc.maxFrameBytes) }));
    await big.until(() => false);
    assert.equal(big.closeCode, 1009);
    assert.equal(big.ws.readyState, WebSocket.CLOSED);
    // Others carry on.
    assert.deepEqual(await answer('{"jsonrpc":"2.0","method":"sum","params":[4],"id":1}'), { jsonrpc: '2.0', result: 4, id: 1 });
  });
});
