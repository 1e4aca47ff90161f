import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { createLogger } from '../observability/logger.js';

test('configured secrets never reach the log, and circular objects do not crash it', () => {
  const lines: string[] = [];
  const destination = new Writable({ write: (chunk, _encoding, done) => (lines.push(String(chunk)), done()) });
  const logger = createLogger({ name: 't', secrets: ['s3cret-token-value'], destination });
  const circular: Record<string, unknown> = { name: 'loop' };
  circular.self = circular;
  logger.info({ req: { headers: { authorization: 'Bearer s3cret-token-value' } }, nested: { note: 'token s3cret-token-value' }, socket: new (class Socket {})(), circular }, 'msg with s3cret-token-value');
  logger.info('plain s3cret-token-value');
  const text = lines.join('');
  assert.equal(lines.length, 2);
  assert.doesNotMatch(text, /s3cret-token-value/);
  assert.match(text, /\[redacted\]/);
});
