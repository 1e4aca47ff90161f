// /readyz and the API's answers while Temporal is down, against a dev server this test
// owns: stopped, then started again on the same database.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { resolveTemporalBinary } from '../supervisor/temporal-binary.js';
import { devServerArgs, waitForTemporal } from '../supervisor/temporal-dev-server.js';
import { startFakeAnthropic, type FakeAnthropic } from './support/fake-anthropic.js';
import { postJson, startTestGateway, type TestGateway } from './support/gateway.js';
import { freePort } from './support/processes.js';
import { eventually, outcomeOf } from './support/sessions.js';

let dir: string;
let port: number;
let server: ChildProcess | undefined;
let fake: FakeAnthropic;
let gateway: TestGateway;

async function startServer(): Promise<void> {
  const binary = await resolveTemporalBinary();
  assert.equal(binary.kind, 'path');
  if (binary.kind !== 'path') return;
  server = spawn(binary.path, devServerArgs({ dbFile: path.join(dir, 'temporal.sqlite'), port, headless: true, logLevel: 'error' }), { stdio: 'ignore' });
  await waitForTemporal(`127.0.0.1:${port}`, { timeoutMs: 60_000 });
}

async function stopServer(): Promise<void> {
  const exited = new Promise((resolve) => server!.once('exit', resolve));
  server!.kill('SIGTERM');
  await exited;
  server = undefined;
}

async function readyz(): Promise<{ status: number; body: { ready: boolean; checks: Record<string, { ok: boolean; detail: string }> } }> {
  const res = await fetch(`${gateway.url}/readyz`);
  return { status: res.status, body: (await res.json()) as never };
}

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'switchyard-readyz-'));
  port = await freePort();
  await startServer();
  fake = await startFakeAnthropic();
  gateway = await startTestGateway({ fake, temporalAddress: `127.0.0.1:${port}`, worker: false });
});
after(async () => {
  await gateway?.close();
  if (server) await stopServer();
  await fake?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('not ready without a worker polling both task queues', async () => {
  const { status, body } = await readyz();
  assert.equal(status, 503);
  assert.equal(body.checks.temporal!.ok, true);
  assert.equal(body.checks.worker!.ok, false);
  assert.match(body.checks.worker!.detail, /switchyard/);
});

test('ready once a worker polls; 503 while Temporal is down; ready again when it returns, with the session intact', async () => {
  await gateway.startWorker();
  await eventually('ready', async () => (await readyz()).status === 200);
  const sent = await postJson(`${gateway.url}/hooks/agent`, { message: 'before the outage', sessionKey: 'agent:main:readyz' });
  assert.equal(sent.status, 202);
  await outcomeOf(gateway, 'agent:main:readyz', sent.body.messageId);

  await stopServer();
  const down = await readyz();
  assert.equal(down.status, 503);
  assert.equal(down.body.ready, false);
  assert.equal(down.body.checks.temporal!.ok, false);

  // Nothing can be accepted: the caller is told so, with the error shape of every route.
  const refused = await postJson(`${gateway.url}/hooks/agent`, { message: 'during the outage', sessionKey: 'agent:main:readyz' });
  assert.equal(refused.status, 503);
  assert.equal(refused.body.error.code, 'temporal_unavailable');
  assert.ok(refused.headers.get('retry-after'));
  assert.equal((await fetch(`${gateway.url}/healthz`)).status, 200);

  await startServer();
  await eventually('ready again', async () => (await readyz()).status === 200);
  const state = await gateway.api.sessions.state('agent:main:readyz');
  assert.equal(state.turnCount, 1);
  const after = await postJson(`${gateway.url}/hooks/agent`, { message: 'after the outage', sessionKey: 'agent:main:readyz', mode: 'sync' });
  assert.equal(after.status, 200);
  assert.equal(after.body.result, 'echo: after the outage');
});
