// Both adapters of the repository, end to end: run by the real supervisor of a test gateway
// (the API's ChannelManager), with the real worker and `claude` CLI on the fake Anthropic
// API. A line into the terminal adapter's FIFO comes back as a reply in its output; a message
// POSTed to the outbound-webhook adapter comes back as a signed POST to a receiver of ours,
// also when the adapter was restarted while the turn ran (it resubscribes with afterSeq).
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { signStandardWebhook } from '../api/webhooks/signatures.js';
import { RpcClient, RpcConnectError } from '../client/rpc-client.js';
import { startFakeAnthropic, type FakeAnthropic } from './support/fake-anthropic.js';
import { postJson, startTestGateway, uniqueScope, type TestGateway } from './support/gateway.js';
import { switchyardArgv } from './support/processes.js';

const SECRET = `whsec_${Buffer.from('channels-adapter-test-secret-32b').toString('base64')}`;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 90_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

interface Delivery {
  at: number;
  headers: http.IncomingHttpHeaders;
  raw: string;
  body: { channel: string; peer: string; sessionKey: string; type: string; text?: string; seq: number };
}

let fake: FakeAnthropic;
let gateway: TestGateway;
let dir: string;
let fifo: string;
let receiver: http.Server;
const deliveries: Delivery[] = [];
let failNext = 0;

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'switchyard-adapters-'));
  fifo = path.join(dir, 'chat.fifo');
  execFileSync('mkfifo', [fifo]);
  receiver = http.createServer((request, response) => {
    let raw = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (raw += chunk));
    request.on('end', () => {
      if (failNext > 0) {
        failNext -= 1;
        response.writeHead(503).end();
        return;
      }
      deliveries.push({ at: Date.now(), headers: request.headers, raw, body: JSON.parse(raw) as Delivery['body'] });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/replies`;

  fake = await startFakeAnthropic();
  gateway = await startTestGateway({
    fake,
    config: {
      channels: {
        tty: { adapter: 'terminal-chat', stdin: fifo, args: ['--peer', uniqueScope('person')] },
        hook: { adapter: 'outbound-webhook', env: { OUTBOUND_WEBHOOK_URL: receiverUrl, OUTBOUND_WEBHOOK_SECRET: SECRET } },
      },
    },
  });
});
after(async () => {
  await gateway?.close();
  await fake?.close();
  await new Promise<void>((resolve) => receiver.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

const outputLines = (name: string) => gateway.api.channels.logs(name, { lines: 1000 }).lines.map((line) => line.line);

/** The inbound URL the outbound-webhook adapter printed (a new port after each restart). */
async function inboundUrl(after = 0): Promise<string> {
  return waitFor('the adapter listening', () => {
    const lines = gateway.api.channels.logs('hook', { lines: 1000, stream: 'stdout' }).lines.filter((line) => line.ts >= after);
    const match = lines.map((line) => /POST (http:\/\/\S+\/messages)/.exec(line.line)).find(Boolean);
    return match?.[1];
  });
}

describe('terminal chat adapter', () => {
  test('a line written to its stdin FIFO comes back as the agent\'s reply on its output', async () => {
    await waitFor('tty running', () => gateway.api.channels.get('tty').state === 'running');
    const text = `hello terminal ${uniqueScope('t')}`;
    writeFileSync(fifo, `${text}\n`);
    const reply = await waitFor('the reply', () => outputLines('tty').find((line) => line === `main: echo: ${text}`));
    assert.ok(reply);
    assert.equal(gateway.api.channels.get('tty').restarts, 0);
  });
});

describe('switchyard chat', () => {
  test('a person can pipe lines in: each is answered, then it exits 0', async () => {
    const peer = uniqueScope('me');
    const child = spawn(process.execPath, switchyardArgv('chat', '--url', gateway.rpcUrl, '--peer', peer), { cwd: dir, env: { ...process.env, SWITCHYARD_HOME: dir } });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.stdin.end('first line\nsecond line\n');
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 0, err);
    assert.match(out, /^main: echo: first line$/m);
    assert.match(out, /^main: echo: second line$/m);
  });
});

describe('outbound webhook adapter', () => {
  test('a message POSTed to it is answered with a signed POST of the reply', async () => {
    const url = await inboundUrl();
    const peer = uniqueScope('alice');
    const accepted = await postJson(url, { peer, text: 'hello webhook' });
    assert.equal(accepted.status, 202);
    assert.equal(accepted.body.sessionKey, `agent:main:hook:${peer}`);
    const delivery = await waitFor('the reply POST', () => deliveries.find((d) => d.body.peer === peer));
    assert.equal(delivery.body.type, 'turn.completed');
    assert.equal(delivery.body.text, 'echo: hello webhook');
    assert.equal(delivery.body.channel, 'hook');
    assert.equal(delivery.body.sessionKey, `agent:main:hook:${peer}`);
    const id = String(delivery.headers['webhook-id']);
    const timestamp = Number(delivery.headers['webhook-timestamp']);
    assert.equal(delivery.headers['webhook-signature'], signStandardWebhook(SECRET, id, timestamp, delivery.raw));
  });

  test('a receiver that fails is retried until it takes the reply', async () => {
    const url = await inboundUrl();
    const peer = uniqueScope('bob');
    failNext = 2;
    assert.equal((await postJson(url, { peer, text: 'retry me' })).status, 202);
    const delivery = await waitFor('the reply after retries', () => deliveries.find((d) => d.body.peer === peer));
    assert.equal(delivery.body.text, 'echo: retry me');
    assert.equal(failNext, 0);
  });

  test('a reply that comes while the adapter restarts is delivered by the new process (afterSeq)', async () => {
    const url = await inboundUrl();
    const peer = uniqueScope('carol');
    fake.enqueueFor('slow question', { kind: 'text', text: 'the late reply', chunks: 3, delayMs: 1500 });
    assert.equal((await postJson(url, { peer, text: 'slow question' })).status, 202);
    const before = gateway.api.channels.get('hook').pid;
    const restarted = await gateway.api.channels.restartChannel('hook');
    const restartedAt = Date.now();
    assert.notEqual(restarted.pid, before);
    const delivery = await waitFor('the late reply', () => deliveries.find((d) => d.body.peer === peer));
    assert.equal(delivery.body.text, 'the late reply');
    assert.ok(delivery.at >= restartedAt, 'delivered by the restarted adapter');
    await sleep(1000);
    assert.equal(deliveries.filter((d) => d.body.peer === peer).length, 1, 'delivered once');
  });
});

describe('a gateway without a token', () => {
  test('refuses an unknown adapter token instead of treating it as the operator', async () => {
    await assert.rejects(RpcClient.connect(gateway.rpcUrl, { token: 'swc_from-an-api-process-long-gone' }), (error) => error instanceof RpcConnectError && error.status === 401);
    const anyone = await RpcClient.connect(gateway.rpcUrl);
    assert.equal((await anyone.call('channels.list')).channels.length, 2);
    await anyone.close();
  });
});
