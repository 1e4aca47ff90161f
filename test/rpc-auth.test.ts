// Who may open /rpc: decided at the upgrade, before any frame, with the bearer token in the
// Authorization header or (for browsers) the subprotocol; and, without a token on loopback,
// anyone but a web page from another origin.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RpcClient, RpcConnectError } from '../client/rpc-client.js';
import { startFakeAnthropic, type FakeAnthropic } from './support/fake-anthropic.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';
import { rawUpgrade } from './support/rpc.js';

const TOKEN = 'rpc-test-token-5f2a9c';

let fake: FakeAnthropic;
let secured: TestGateway;
let open: TestGateway;

before(async () => {
  fake = await startFakeAnthropic();
  secured = await startTestGateway({ fake, worker: false, token: TOKEN });
  open = await startTestGateway({ fake, worker: false });
});
after(async () => {
  await secured?.close();
  await open?.close();
  await fake?.close();
});

async function refusal(url: string, options: Parameters<typeof RpcClient.connect>[1] = {}): Promise<RpcConnectError> {
  try {
    const client = await RpcClient.connect(url, options);
    await client.close();
  } catch (error) {
    assert.ok(error instanceof RpcConnectError, String(error));
    return error;
  }
  assert.fail('the upgrade was accepted');
}

describe('with a token configured', () => {
  test('no token: 401 with WWW-Authenticate, as a plain HTTP answer before any frame', async () => {
    const answer = await rawUpgrade(secured.rpcUrl);
    assert.equal(answer.status, 401);
    assert.match(answer.head, /www-authenticate: Bearer/i);
    assert.equal(JSON.parse(answer.body).error.code, 'unauthorized');
    assert.doesNotMatch(answer.text, /101 Switching Protocols/);
    const error = await refusal(secured.rpcUrl);
    assert.equal(error.status, 401);
    assert.match(error.message, /missing bearer token/);
  });

  test('a wrong token: 401', async () => {
    const viaHeader = await refusal(secured.rpcUrl, { token: 'not-the-token' });
    assert.equal(viaHeader.status, 401);
    assert.match(viaHeader.message, /invalid bearer token/);
    const viaProtocol = await refusal(secured.rpcUrl, { token: 'not-the-token', tokenVia: 'subprotocol' });
    assert.equal(viaProtocol.status, 401);
    const nearlyRight = await refusal(secured.rpcUrl, { token: `${TOKEN}x` });
    assert.equal(nearlyRight.status, 401);
  });

  test('Authorization: Bearer <token> opens the connection', async () => {
    const client = await RpcClient.connect(secured.rpcUrl, { token: TOKEN });
    assert.equal((await client.call('gateway.health')).ok, true);
    assert.equal(client.socket.protocol, '');
    await client.close();
  });

  test('the subprotocol form works, and the server selects switchyard.v1 without echoing the token', async () => {
    const answer = await rawUpgrade(secured.rpcUrl, { 'Sec-WebSocket-Protocol': `switchyard.v1, switchyard.bearer.${TOKEN}` });
    assert.equal(answer.status, 101);
    assert.match(answer.head, /sec-websocket-protocol: switchyard\.v1/i);
    assert.ok(!answer.text.includes(TOKEN), 'the token is never echoed');

    const client = await RpcClient.connect(secured.rpcUrl, { token: TOKEN, tokenVia: 'subprotocol' });
    assert.equal(client.socket.protocol, 'switchyard.v1');
    assert.equal((await client.call('gateway.health')).ok, true);
    await client.close();
  });

  test('subprotocols without switchyard.v1 are refused with 400', async () => {
    const answer = await rawUpgrade(secured.rpcUrl, { 'Sec-WebSocket-Protocol': `switchyard.bearer.${TOKEN}` });
    assert.equal(answer.status, 400);
    assert.match(JSON.parse(answer.body).error.message, /switchyard\.v1/);
  });

  test('status and config never show the token', async () => {
    const client = await RpcClient.connect(secured.rpcUrl, { token: TOKEN });
    const config = await client.call('config.get');
    const status = await client.call('gateway.status');
    assert.equal((config.config as any).gateway.auth.token, '[redacted]');
    assert.ok(!JSON.stringify(config).includes(TOKEN));
    assert.ok(!JSON.stringify(config).includes(secured.config.gateway.internalToken!));
    assert.ok(!JSON.stringify(status).includes(TOKEN));
    assert.equal(status.rpc.connections >= 1, true);
    await client.close();
  });
});

describe('without a token, on loopback', () => {
  test('no auth is needed', async () => {
    const client = await RpcClient.connect(open.rpcUrl);
    assert.equal((await client.call('gateway.health')).ok, true);
    await client.close();
  });

  test('a browser page from another origin is refused; a loopback origin is not', async () => {
    const foreign = await rawUpgrade(open.rpcUrl, { Origin: 'https://evil.example' });
    assert.equal(foreign.status, 403);
    assert.equal(JSON.parse(foreign.body).error.code, 'forbidden_origin');
    const local = await rawUpgrade(open.rpcUrl, { Origin: 'http://localhost:5173' });
    assert.equal(local.status, 101);
    const loopback = await rawUpgrade(open.rpcUrl, { Origin: 'http://127.0.0.1:8080' });
    assert.equal(loopback.status, 101);
  });
});

describe('other paths', () => {
  test('GET /rpc without an upgrade answers 426; an upgrade elsewhere 404', async () => {
    const response = await fetch(`${open.url}/rpc`);
    assert.equal(response.status, 426);
    assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'upgrade_required');
    const elsewhere = await rawUpgrade(`${open.rpcUrl.replace(/\/rpc$/, '/nope')}`);
    assert.equal(elsewhere.status, 404);
  });
});
