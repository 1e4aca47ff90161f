// Security promises of issue 9, end to end. Already proven elsewhere, not repeated here:
// constant-time compare and the bind rule as functions (auth.test.ts), the RPC upgrade's
// 401s and config.get/gateway.status without the token (rpc-auth.test.ts), the log scrubber
// (logger.test.ts), redaction of config output (config-redact.test.ts), the hook routes'
// 429 after repeated failures (webhooks-http.test.ts), the agent environment as a function
// (claude-invocation.test.ts), POST /internal/hooks refusing foreign, forged, expired and
// missing hook tokens with 401 and publishing nothing (claude-hooks.test.ts), and a channel
// adapter's token getting -32020 Forbidden for every method and session not its own
// (channels-rpc.test.ts).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { stringify } from 'yaml';
import { RpcClient } from '../client/rpc-client.js';
import { buildApiServer, type ApiServer } from '../api/server.js';
import { ConfigSchema, type Config } from '../config/schema.js';
import { secretValues } from '../config/redact.js';
import { createLogger } from '../observability/logger.js';
import { startFakeAnthropic, type FakeAnthropic } from './support/fake-anthropic.js';
import { startTestGateway, temporalAddress, uniqueScope } from './support/gateway.js';
import { outcomeOf, sendMessage } from './support/sessions.js';
import { sign, STANDARD_SECRET } from './support/webhooks.js';
import { closableRetries } from '../config/temporal-retries.js';

const TOKEN = 'security-gateway-token-7d1e55';
const INTERNAL = 'security-internal-token-0b9c';
const GITHUB_SECRET = 'security-github-secret-a41f';
const SOURCE_TOKEN = 'security-source-bearer-3c8e';

describe('binding', () => {
  test('loopback is the default bind', () => {
    assert.equal(ConfigSchema.parse({}).gateway.bind, '127.0.0.1');
  });

  test('the API process refuses to start on a non-loopback bind without a token (exit 78), and says why', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'switchyard-security-'));
    try {
      writeFileSync(path.join(dir, 'switchyard.yaml'), stringify({ gateway: { bind: '0.0.0.0', port: 0 } }));
      const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('SWITCHYARD_')));
      const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = execFile(process.execPath, ['--import', import.meta.resolve('tsx'), path.resolve(import.meta.dirname, '../api/main.ts')], { cwd: dir, env: { ...env, SWITCHYARD_HOME: dir }, timeout: 240_000 }, (_error, _stdout, stderr) =>
          resolve({ code: child.exitCode, stderr }),
        );
      });
      assert.equal(result.code, 78, result.stderr);
      assert.match(result.stderr, /refusing to bind 0\.0\.0\.0 without a token/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** An API server in this process whose log lines this test reads. */
async function startLoggedApi(config: Config): Promise<{ api: ApiServer; url: string; log: string[]; close(): Promise<void> }> {
  const log: string[] = [];
  const destination = new Writable({ write: (chunk, _encoding, done) => (log.push(String(chunk)), done()) });
  // As api/main.ts builds it, at the most talkative level.
  const logger = createLogger({ name: 'api', level: 'trace', secrets: [...secretValues(config), INTERNAL], destination });
  const retries = closableRetries();
  const connection = await Connection.connect({ address: temporalAddress(), interceptors: retries.interceptors });
  const client = new Client({ connection, namespace: config.temporal.namespace });
  const api = await buildApiServer({ config, client, logger, internalToken: INTERNAL });
  await api.app.listen({ host: '127.0.0.1', port: 0 });
  const address = api.app.server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  return {
    api,
    url,
    log,
    async close() {
      await api.app.close();
      await retries.close(connection);
    },
  };
}

function securedConfig(): Config {
  return ConfigSchema.parse({
    gateway: { port: 0, auth: { token: TOKEN }, internalToken: INTERNAL, deliverSecret: STANDARD_SECRET },
    temporal: { address: temporalAddress() },
    webhooks: {
      github: { verify: { type: 'github', secret: GITHUB_SECRET } },
      bearer: { verify: { type: 'bearer', secret: SOURCE_TOKEN } },
    },
  });
}

/** An HTTP request from a chosen loopback address (127.0.0.0/8 all reaches this host). */
function request(url: string, options: { method?: string; headers?: Record<string, string>; body?: string; localAddress?: string }): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: options.method ?? 'GET', headers: options.headers, localAddress: options.localAddress ?? '127.0.0.1' }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    // An accepted WebSocket upgrade: 101, then the socket is not ours to keep.
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, headers: res.headers, text: '' });
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** A WebSocket upgrade of /rpc from a chosen address: the status of the answer (101 when opened). */
const upgrade = (url: string, localAddress: string, token?: string) =>
  request(`${url}/rpc`, {
    localAddress,
    headers: {
      connection: 'Upgrade',
      upgrade: 'websocket',
      'sec-websocket-version': '13',
      'sec-websocket-key': Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('base64'),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
  });

describe('secrets', () => {
  let server: Awaited<ReturnType<typeof startLoggedApi>>;
  before(async () => {
    server = await startLoggedApi(securedConfig());
  });
  after(async () => {
    await server?.close();
  });

  test('no secret appears in any answer, error or log line, whatever the requests', async () => {
    const seen: string[] = [];
    const keep = (answer: { status: number; headers: http.IncomingHttpHeaders; text: string }) => {
      seen.push(`${answer.status} ${JSON.stringify(answer.headers)} ${answer.text}`);
      return answer;
    };
    const url = server.url;
    const from = '127.0.0.11';
    const json = { 'content-type': 'application/json' };
    // Wrong, nearly right and right tokens; bodies that fail validation; bad signatures.
    keep(await request(`${url}/hooks/agent`, { method: 'POST', localAddress: from, headers: { ...json, authorization: `Bearer ${TOKEN}x` }, body: '{"message":"x"}' }));
    keep(await request(`${url}/hooks/agent`, { method: 'POST', localAddress: from, headers: { ...json, authorization: `Bearer ${TOKEN}` }, body: '{"message":' }));
    keep(await request(`${url}/hooks/agent`, { method: 'POST', localAddress: from, headers: { ...json, authorization: `Bearer ${TOKEN}` }, body: JSON.stringify({ message: 'x', sessionKey: 'not a key', deliver: { url: 'ftp://x' } }) }));
    const body = JSON.stringify({ action: 'opened' });
    const signed = sign.github(body, { secret: GITHUB_SECRET });
    keep(await request(`${url}/hooks/github`, { method: 'POST', localAddress: from, headers: { ...signed.headers, 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` }, body }));
    keep(await request(`${url}/hooks/github`, { method: 'POST', localAddress: from, headers: signed.headers, body: '{"action":' }));
    keep(await request(`${url}/hooks/bearer`, { method: 'POST', localAddress: from, headers: { ...json, authorization: `Bearer ${SOURCE_TOKEN.slice(0, -1)}` }, body }));
    keep(await request(`${url}/internal/events`, { method: 'POST', localAddress: from, headers: { ...json, authorization: `Bearer ${INTERNAL}x` }, body: '[]' }));
    keep(await request(`${url}/healthz`, { localAddress: from }));
    keep(await request(`${url}/readyz`, { localAddress: from }));

    // The RPC API: config, status, errors, with the token offered as a subprotocol.
    const client = await RpcClient.connect(server.url.replace(/^http/, 'ws') + '/rpc', { token: TOKEN, tokenVia: 'subprotocol' });
    seen.push(JSON.stringify(await client.call('config.get')));
    seen.push(JSON.stringify(await client.call('gateway.status')));
    for (const [method, params] of [
      ['no.such.method', {}],
      ['sessions.send', { sessionKey: 'bad', message: 1 }],
      ['config.get', { path: 'gateway.auth.token' }],
    ] as const) {
      seen.push(await client.call(method as 'config.get', params as never).then(JSON.stringify, (error: unknown) => JSON.stringify(error, Object.getOwnPropertyNames(error))));
    }
    await client.close();

    assert.ok(server.log.length > 10, 'the log saw the requests');
    const everything = [...seen, ...server.log].join('\n');
    for (const secret of [TOKEN, INTERNAL, GITHUB_SECRET, SOURCE_TOKEN, STANDARD_SECRET, STANDARD_SECRET.slice('whsec_'.length)]) {
      assert.ok(!everything.includes(secret), `a secret leaked: ${secret.slice(0, 12)}…`);
    }
  });
});

describe('repeated authentication failures', () => {
  let server: Awaited<ReturnType<typeof startLoggedApi>>;
  before(async () => {
    server = await startLoggedApi(securedConfig());
  });
  after(async () => {
    await server?.close();
  });

  test('RPC upgrades with a wrong token are slowed down per address: 429 with Retry-After, shared with the hook routes', async () => {
    const attacker = '127.0.0.21';
    const bystander = '127.0.0.22';
    const failures = [];
    for (let i = 0; i < 10; i++) failures.push((await upgrade(server.url, attacker, `wrong-${i}`)).status);
    assert.deepEqual(failures, Array(10).fill(401));

    const blocked = await upgrade(server.url, attacker, TOKEN);
    assert.equal(blocked.status, 429, 'even the right token is not looked at');
    assert.equal(JSON.parse(blocked.text).error.code, 'too_many_auth_failures');
    assert.ok(Number(blocked.headers['retry-after']) >= 1);
    const hook = await request(`${server.url}/hooks/agent`, { method: 'POST', localAddress: attacker, headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body: '{"message":"x"}' });
    assert.equal(hook.status, 429, 'the same brake covers the hook routes');

    assert.equal((await upgrade(server.url, bystander, TOKEN)).status, 101, 'another address is not affected');
  });

  test('a success clears the count: failures spread between successes never block', async () => {
    const address = '127.0.0.23';
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 9; i++) assert.equal((await upgrade(server.url, address, 'wrong')).status, 401);
      assert.equal((await upgrade(server.url, address, TOKEN)).status, 101);
    }
  });
});

describe("an agent's environment", () => {
  let fake: FakeAnthropic;
  before(async () => {
    fake = await startFakeAnthropic();
  });
  after(async () => {
    await fake?.close();
  });

  test("holds none of the gateway's secrets: the agent's own `env` shows no SWITCHYARD_* and no token", async () => {
    const saved = { token: process.env.SWITCHYARD_TOKEN, internal: process.env.SWITCHYARD_INTERNAL_TOKEN };
    process.env.SWITCHYARD_TOKEN = 'env-gateway-token-should-not-leak';
    process.env.SWITCHYARD_INTERNAL_TOKEN = 'env-internal-token-should-not-leak';
    const gateway = await startTestGateway({ fake, token: TOKEN, config: { agentDefaults: { allowedTools: ['Bash'] } } });
    try {
      const sessionKey = `agent:main:${uniqueScope('env')}`;
      fake.enqueueFor('show-env', { kind: 'tool', name: 'Bash', input: { command: 'env', description: 'environment' }, then: 'done' });
      const sent = await sendMessage(gateway, { message: 'show-env', sessionKey }, { authorization: `Bearer ${TOKEN}` });
      assert.equal((await outcomeOf(gateway, sessionKey, sent.messageId)).type, 'turn.completed');
      const output = fake.mainRequests().flatMap((r) => r.toolResults ?? []).map((r) => r.content).join('\n');
      assert.match(output, /^PATH=/m, 'the tool printed the environment');
      assert.doesNotMatch(output, /^SWITCHYARD_/m);
      for (const secret of [TOKEN, INTERNAL, 'env-gateway-token-should-not-leak', 'env-internal-token-should-not-leak', gateway.config.gateway.internalToken!]) {
        assert.ok(!output.includes(secret), `the agent saw ${secret.slice(0, 12)}…`);
      }
    } finally {
      await gateway.close();
      for (const [key, value] of [['SWITCHYARD_TOKEN', saved.token], ['SWITCHYARD_INTERNAL_TOKEN', saved.internal]] as const) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  });
});
