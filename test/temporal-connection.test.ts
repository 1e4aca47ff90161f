// temporal.tls / temporal.apiKey → the options every process dials Temporal with, and what a
// TLS client meets at a plain server (the suite's dev server cannot do TLS, so that is the
// real-server half of the test).
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { ConfigError } from '../config/errors.js';
import { secretValues } from '../config/redact.js';
import { ConfigSchema } from '../config/schema.js';
import { describeTemporalConnection, temporalConnectError, temporalConnectionOptions } from '../config/temporal-connection.js';
import { probeTemporal } from '../supervisor/temporal-dev-server.js';
import { temporalAddress } from './support/gateway.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchyard-tls-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
fs.writeFileSync(path.join(dir, 'ca.pem'), 'CA PEM');
fs.writeFileSync(path.join(dir, 'client.pem'), 'CLIENT PEM');
fs.writeFileSync(path.join(dir, 'client.key'), 'CLIENT KEY');

const configOf = (temporal: Record<string, unknown>) => ConfigSchema.parse({ temporal: { address: 'temporal.example:7233', ...temporal } });

describe('config → connection options', () => {
  test('no tls, no apiKey: plain gRPC to the address (the embedded server: loopback and its port)', () => {
    assert.deepEqual(temporalConnectionOptions(configOf({})), { address: 'temporal.example:7233' });
    assert.deepEqual(temporalConnectionOptions(ConfigSchema.parse({ temporal: { devServerPort: 7999 } })), { address: '127.0.0.1:7999' });
  });

  test('an API key alone means TLS with the system roots (Temporal Cloud)', () => {
    const options = temporalConnectionOptions(configOf({ address: 'ns.acct.tmprl.cloud:7233', namespace: 'ns.acct', apiKey: 'key-123' }));
    assert.deepEqual(options, { address: 'ns.acct.tmprl.cloud:7233', apiKey: 'key-123', tls: {} });
    assert.equal(describeTemporalConnection(options), 'ns.acct.tmprl.cloud:7233 (TLS, API key)');
    assert.doesNotMatch(describeTemporalConnection(options), /key-123/);
  });

  test('mTLS: certificate files are read, relative to the working directory, and the server name overrides SNI', () => {
    const options = temporalConnectionOptions(
      configOf({ tls: { serverName: 'temporal.internal', serverRootCACertFile: 'ca.pem', clientCertFile: path.join(dir, 'client.pem'), clientKeyFile: 'client.key' } }),
      { cwd: dir },
    );
    assert.equal(options.tls?.serverNameOverride, 'temporal.internal');
    assert.equal(options.tls?.serverRootCACertificate?.toString(), 'CA PEM');
    assert.equal(Buffer.from(options.tls!.clientCertPair!.crt).toString(), 'CLIENT PEM');
    assert.equal(Buffer.from(options.tls!.clientCertPair!.key).toString(), 'CLIENT KEY');
    assert.equal(describeTemporalConnection(options), 'temporal.example:7233 (mTLS)');
  });

  test('`tls: {}` is TLS with the system roots; `enabled: false` turns it off', () => {
    assert.deepEqual(temporalConnectionOptions(configOf({ tls: {} })).tls, {});
    assert.equal(temporalConnectionOptions(configOf({ tls: { enabled: false, serverName: 'x' } })).tls, undefined);
  });

  test('an unreadable certificate is a config error naming the key and the file', () => {
    const error = (() => {
      try {
        temporalConnectionOptions(configOf({ tls: { serverRootCACertFile: 'missing.pem' } }), { cwd: dir });
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    assert.ok(error instanceof ConfigError);
    assert.equal(error.exitCode, 78);
    assert.match(error.message, /temporal\.tls\.serverRootCACertFile: cannot read .*missing\.pem: ENOENT/);
  });

  test('a client certificate needs its key, and the reverse', () => {
    const result = ConfigSchema.safeParse({ temporal: { tls: { clientCertFile: 'client.pem' } } });
    assert.equal(result.success, false);
    assert.deepEqual(result.error?.issues[0]?.path, ['temporal', 'tls', 'clientKeyFile']);
    assert.equal(ConfigSchema.safeParse({ temporal: { tls: { clientKeyFile: 'client.key' } } }).success, false);
  });

  test('the API key is a secret: redacted wherever config is shown', () => {
    assert.ok(secretValues(configOf({ apiKey: 'key-123' })).includes('key-123'));
  });
});

describe('a TLS client at a plain Temporal server', () => {
  const options = { address: temporalAddress(), tls: {} };

  const clear = /^cannot connect to Temporal at .* \(TLS\): .*TLS is on \(temporal\.tls or temporal\.apiKey\): check that the server speaks TLS/;

  test('the client connection fails instead of sending anything in clear', async () => {
    await assert.rejects(Connection.connect({ ...options, connectTimeout: 10_000 }));
  });

  test('the worker connection fails, and the error says what was dialled and why it may fail', async () => {
    const error = await NativeConnection.connect(options).then(
      () => assert.fail('connected with TLS to a plain server'),
      (caught: unknown) => temporalConnectError(caught, options),
    );
    assert.match(error.message, clear);
  });

  test("the supervisor's readiness probe reports it the same way", async () => {
    await assert.rejects(probeTemporal(options.address, { security: { tls: {} }, timeoutMs: 10_000 }), (error: Error) => {
      assert.match(error.message, clear);
      return true;
    });
  });
});
