// `switchyard start` for real: the supervisor with the real worker and API entries and an
// embedded dev server, agents on the real `claude` CLI against the fake API. Processes are
// killed the hard way and the gateway must carry on, losing nothing.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { stringify } from 'yaml';
import { SessionService } from '../api/session-service.js';
import { EventHub } from '../api/event-hub.js';
import { claudeEnv, startFakeAnthropic, type FakeAnthropic } from './support/fake-anthropic.js';
import { CLAUDE_BIN, postJson } from './support/gateway.js';
import { freePort, parentOf, processAlive, switchyardArgv } from './support/processes.js';
import { eventually, processesMatching } from './support/sessions.js';

let fake: FakeAnthropic;
let dir: string;
let home: string;
let api: string;
let temporalPort: number;
let gateway: ChildProcess;
let output = '';
let exited: Promise<number | null>;
let client: Client;
let sessions: SessionService;

const startGateway = () => {
  const child = spawn(process.execPath, switchyardArgv('start'), {
    cwd: dir,
    env: { ...process.env, SWITCHYARD_HOME: home, SWITCHYARD_TEST_TEMPORAL_ADDRESS: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return child;
};

before(async () => {
  fake = await startFakeAnthropic();
  dir = mkdtempSync(path.join(tmpdir(), 'switchyard-start-'));
  home = path.join(dir, 'home');
  temporalPort = await freePort();
  const port = await freePort();
  api = `http://127.0.0.1:${port}`;
  writeFileSync(
    path.join(dir, 'switchyard.yaml'),
    stringify({
      gateway: { port },
      temporal: { devServerPort: temporalPort, uiPort: await freePort() },
      agentDefaults: { command: CLAUDE_BIN, cwd: dir, env: claudeEnv(fake, path.join(dir, 'claude-config')), retry: { initialInterval: '200ms' } },
    }),
  );
  gateway = startGateway();
  gateway.stdout!.on('data', (chunk) => (output += chunk));
  gateway.stderr!.on('data', (chunk) => (output += chunk));
  exited = new Promise((resolve) => gateway.on('exit', (code) => resolve(code)));
  await eventually('the gateway to be ready', async () => (await fetch(`${api}/readyz`)).status === 200, 180_000);
  const connection = await Connection.connect({ address: `127.0.0.1:${temporalPort}` });
  client = new Client({ connection });
  sessions = new SessionService(client, new EventHub(), { maxTurnsPerRun: 200 });
});

after(async () => {
  if (gateway.exitCode === null) gateway.kill('SIGKILL');
  await client?.connection.close();
  await fake?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The supervised child (of this test's gateway) whose command line contains `needle`. */
const childPid = (needle: string) =>
  eventually(`the ${needle} process`, () => processesMatching(needle).find((pid) => parentOf(pid) === gateway.pid && processAlive(pid)));

test('start prints where the API, the Temporal UI and the logs are', () => {
  assert.match(output, /API:\s+http:\/\/127\.0\.0\.1:\d+/);
  assert.match(output, /Temporal UI:\s+http:\/\/127\.0\.0\.1:\d+/);
  assert.match(output, new RegExp(`Logs:\\s+${home}/logs`));
});

test('a turn through the supervised processes', async () => {
  const res = await postJson(`${api}/hooks/agent`, { message: 'through start', sessionKey: 'agent:main:start-1', mode: 'sync' });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.result, 'echo: through start');
});

test('a second start while one runs says so and exits non-zero', async () => {
  const second = startGateway();
  let text = '';
  second.stdout!.on('data', (chunk) => (text += chunk));
  second.stderr!.on('data', (chunk) => (text += chunk));
  const code = await new Promise<number | null>((resolve) => second.on('exit', resolve));
  assert.notEqual(code, 0);
  assert.match(text, /already running \(pid \d+/);
});

test('the worker SIGKILLed mid-turn is restarted and the message is answered exactly once', async () => {
  fake.enqueueFor('survive-worker-kill', { kind: 'text', text: 'slow', delayMs: 4000 });
  const sent = await postJson(`${api}/hooks/agent`, { message: 'survive-worker-kill', sessionKey: 'agent:main:start-kill' });
  assert.equal(sent.status, 202);
  await eventually('the CLI to call the API', () => fake.mainRequests().some((r) => r.prompt?.includes('survive-worker-kill')));
  const worker = await childPid(path.join('worker', 'main.ts'));
  process.kill(worker, 'SIGKILL');
  await eventually('a new worker', () => processesMatching(path.join('worker', 'main.ts')).some((pid) => pid !== worker && parentOf(pid) === gateway.pid));

  const outcome = await sessions.waitForOutcome('agent:main:start-kill', sent.body.messageId, 180_000);
  assert.equal(outcome?.type, 'turn.completed');
  const { events } = await sessions.events('agent:main:start-kill', { limit: 1000 });
  assert.equal(events.filter((e) => e.type === 'turn.completed').length, 1);
  assert.equal(events.filter((e) => e.type === 'turn.queued').length, 1);
  assert.equal(events.filter((e) => e.type === 'turn.failed').length, 0);
});

test('Temporal SIGKILLed is restarted by the supervisor on the same database', async () => {
  const temporal = await childPid(`--port ${temporalPort}`);
  process.kill(temporal, 'SIGKILL');
  await eventually('a new Temporal process', () => processesMatching(`--port ${temporalPort}`).some((pid) => pid !== temporal && parentOf(pid) === gateway.pid));
  await eventually('readyz 200 again', async () => (await fetch(`${api}/readyz`)).status === 200, 180_000);
  const state = await eventually('the session from before', () => sessions.state('agent:main:start-1'));
  assert.equal(state.turnCount, 1);
  const res = await postJson(`${api}/hooks/agent`, { message: 'after the restart', sessionKey: 'agent:main:start-1', mode: 'sync' });
  assert.equal(res.body.result, 'echo: after the restart');
});

test('Ctrl-C stops everything in order, exits 0 and leaves no process behind', async () => {
  const pids = [await childPid(path.join('worker', 'main.ts')), await childPid(path.join('api', 'main.ts')), await childPid(`--port ${temporalPort}`)];
  gateway.kill('SIGINT');
  assert.equal(await exited, 0);
  for (const pid of pids) assert.equal(processAlive(pid), false, `process ${pid} is gone`);
  assert.deepEqual(processesMatching(dir).filter(processAlive), []);
  assert.match(output, /stopping…[\s\S]*stopped/);
});
