import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertSafeBind, bearerOf, isLoopback, tokensEqual } from '../api/auth.js';

test('tokens compare equal only when identical', () => {
  assert.equal(tokensEqual('abc', 'abc'), true);
  assert.equal(tokensEqual('abc', 'abd'), false);
  assert.equal(tokensEqual('abc', 'abcd'), false);
  assert.equal(tokensEqual('', 'a'), false);
});

test('bearer header parsing', () => {
  assert.equal(bearerOf('Bearer tok'), 'tok');
  assert.equal(bearerOf('bearer tok'), 'tok');
  assert.equal(bearerOf('Basic tok'), undefined);
  assert.equal(bearerOf(undefined), undefined);
});

test('binding beyond loopback needs a token', () => {
  assert.ok(isLoopback('127.0.0.1') && isLoopback('::1') && isLoopback('localhost'));
  assert.ok(!isLoopback('0.0.0.0'));
  assert.doesNotThrow(() => assertSafeBind('127.0.0.1', undefined));
  assert.throws(() => assertSafeBind('0.0.0.0', undefined), /refusing to bind 0\.0\.0\.0 without a token/);
  assert.doesNotThrow(() => assertSafeBind('0.0.0.0', 'tok'));
});
