// The cron.* JSON-RPC methods and `switchyard cron` (the real CLI in a child process),
// against a gateway's /rpc: thin layers over CronService, with its errors as RPC codes.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import YAML from 'yaml';
import { RpcClient, RpcResponseError } from '../client/rpc-client.js';
import { reconcileCronJobs } from '../cron/reconcile.js';
import { cronJob, cronService, removeCronJobs, uniqueJobName } from './support/cron.js';
import { startFakeAnthropic, type FakeAnthropic } from './support/fake-anthropic.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';
import { eventually } from './support/sessions.js';
import { switchyardArgv } from './support/processes.js';


let fake: FakeAnthropic;
let gateway: TestGateway;
let rpc: RpcClient;
let home: string;
const created: string[] = [];

before(async () => {
  fake = await startFakeAnthropic();
  gateway = await startTestGateway({ fake });
  rpc = await RpcClient.connect(gateway.rpcUrl);
  home = mkdtempSync(path.join(tmpdir(), 'switchyard-cron-cli-'));
});
after(async () => {
  await rpc?.close();
  if (gateway) await removeCronJobs(gateway.client, created);
  await gateway?.close();
  await fake?.close();
  rmSync(home, { recursive: true, force: true });
});

function newJob(label: string): string {
  const name = uniqueJobName(label);
  created.push(name);
  return name;
}

async function rpcError(call: Promise<unknown>): Promise<RpcResponseError> {
  try {
    await call;
  } catch (error) {
    assert.ok(error instanceof RpcResponseError, `expected an RPC error, got ${String(error)}`);
    return error;
  }
  assert.fail('the call should have failed');
}

describe('cron.* methods', () => {
  test('add, get, list, update, pause, resume, trigger, runs and remove', async () => {
    const name = newJob('rpc');
    const added = await rpc.call('cron.add', { name, job: { schedule: { every: '1h' }, prompt: `rpc job ${name}` } });
    assert.equal(added.id, `cron:${name}`);
    assert.equal(added.source, 'runtime');
    assert.equal(added.job.overlap, 'skip');
    assert.equal((await rpc.call('cron.get', { name })).sessionKey, `agent:main:cron:${name}`);
    await eventually('listed', async () => (await rpc.call('cron.list', {})).jobs.some((job) => job.name === name));

    const updated = await rpc.call('cron.update', { name, patch: { prompt: `rpc job ${name}, v2`, overlap: 'bufferOne' } });
    assert.equal(updated.job.prompt, `rpc job ${name}, v2`);
    assert.equal(updated.job.overlap, 'bufferOne');
    assert.deepEqual(updated.job.schedule, { every: '1h' });

    const paused = await rpc.call('cron.pause', { name, note: 'quiet please' });
    assert.equal(paused.paused, true);
    assert.equal(paused.note, 'quiet please');
    assert.equal((await rpc.call('cron.resume', { name })).paused, false);

    const triggered = await rpc.call('cron.trigger', { name });
    assert.equal(triggered.kind, 'schedule');
    const { runs } = await eventually('the triggered run completed', async () => {
      const answer = await rpc.call('cron.runs', { name });
      return answer.runs.length === 1 && answer.runs[0]!.status === 'completed' ? answer : undefined;
    });
    assert.equal(runs[0]!.result, `echo: rpc job ${name}, v2`);

    assert.deepEqual(await rpc.call('cron.remove', { name }), { name, kind: 'schedule', removed: true });
    const gone = await rpcError(rpc.call('cron.get', { name }));
    assert.equal(gone.code, -32010);
    assert.deepEqual(gone.data, { name });
  });

  test('errors: invalid definitions with their path, duplicates, config jobs, one-shots', async () => {
    const bad = await rpcError(rpc.call('cron.add', { name: newJob('bad'), job: { schedule: { cron: '0 25 * * *' }, prompt: 'x' } }));
    assert.equal(bad.code, -32602);
    assert.deepEqual((bad.data as { issues: { path: unknown[] }[] }).issues[0]!.path, ['job', 'schedule', 'cron']);
    assert.match(bad.message, /params\.job\.schedule\.cron: field 2 \(hour\) "25"/);

    const ghost = await rpcError(rpc.call('cron.add', { name: newJob('ghost'), job: { schedule: { every: '1h' }, prompt: 'x', agent: 'ghost' } }));
    assert.equal(ghost.code, -32602);
    assert.match(ghost.message, /agent "ghost" is not configured/);

    const name = newJob('dup');
    await rpc.call('cron.add', { name, job: { schedule: { every: '1h' }, prompt: 'x' } });
    assert.equal((await rpcError(rpc.call('cron.add', { name, job: { schedule: { every: '2h' }, prompt: 'y' } }))).code, -32011);

    const once = newJob('once');
    await rpc.call('cron.add', { name: once, job: { schedule: { at: '1h' }, prompt: 'later' } });
    assert.equal((await rpcError(rpc.call('cron.pause', { name: once }))).code, -32013);

    const fromConfig = newJob('from-config');
    await reconcileCronJobs(cronService(gateway), { [fromConfig]: cronJob({ schedule: { every: '1h' }, prompt: 'declared in config' }) });
    const owned = await rpcError(rpc.call('cron.remove', { name: fromConfig }));
    assert.equal(owned.code, -32012);
    assert.match(owned.message, /declared in config/);
    assert.equal((await rpcError(rpc.call('cron.update', { name: fromConfig, patch: { prompt: 'x' } }))).code, -32012);
    assert.equal((await rpc.call('cron.pause', { name: fromConfig, note: 'pausing a config job is fine' })).paused, true);
    await removeCronJobs(gateway.client, [fromConfig]);
  });
});

describe('switchyard cron', () => {
  function childEnv(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env, SWITCHYARD_HOME: home };
    for (const key of Object.keys(env)) if (key.startsWith('SWITCHYARD_') && key !== 'SWITCHYARD_HOME') delete env[key];
    return env;
  }

  async function switchyard(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const child = spawn(process.execPath, switchyardArgv('cron', ...args, ...(args.includes('--help') ? [] : ['--url', gateway.rpcUrl])), {
      cwd: home,
      env: childEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    return { code, stdout, stderr };
  }

  test('add, list, trigger, runs, pause, get and remove a job from the command line', async () => {
    const name = newJob('cli');
    const added = await switchyard('add', name, '--cron', '0 9 * * MON-FRI', '--tz', 'Europe/Paris', '--prompt', `cli job ${name}`, '--overlap', 'bufferOne');
    assert.equal(added.code, 0, added.stderr);
    const view = YAML.parse(added.stdout);
    assert.equal(view.name, name);
    assert.deepEqual(view.job.schedule, { cron: '0 9 * * MON-FRI', timezone: 'Europe/Paris' });
    assert.equal(view.job.overlap, 'bufferOne');

    const listed = await eventually('listed', async () => {
      const result = await switchyard('list');
      return result.stdout.includes(name) ? result : undefined;
    });
    assert.match(listed.stdout, /^NAME\s+SOURCE\s+STATE\s+WHEN\s+NEXT RUN\s+SESSION/);
    assert.match(listed.stdout, new RegExp(`${name}\\s+runtime\\s+active\\s+cron "0 9 \\* \\* MON-FRI" Europe/Paris`));

    assert.equal((await switchyard('trigger', name)).code, 0);
    const runs = await eventually('the run shows as completed', async () => {
      const result = await switchyard('runs', name);
      return /completed/.test(result.stdout) ? result : undefined;
    });
    assert.match(runs.stdout, new RegExp(`completed\\s+\\d+\\.\\ds\\s+echo: cli job ${name}`));

    assert.equal((await switchyard('pause', name, '--note', 'from the CLI')).code, 0);
    const got = await switchyard('get', name, '--json');
    assert.equal(got.code, 0, got.stderr);
    assert.equal(JSON.parse(got.stdout).note, 'from the CLI');

    assert.equal((await switchyard('remove', name)).stdout, `removed ${name}\n`);
    const missing = await switchyard('get', name);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^error -32010: no cron job named/);
  });

  test('bad usage exits 2; an invalid definition exits 1 with the path', async () => {
    const noPrompt = await switchyard('add', newJob('noprompt'), '--every', '1h');
    assert.equal(noPrompt.code, 2);
    assert.match(noPrompt.stderr, /say what: --prompt/);
    const both = await switchyard('add', newJob('both'), '--every', '1h', '--cron', '@daily', '--prompt', 'x');
    assert.equal(both.code, 2);
    const invalid = await switchyard('add', newJob('invalid'), '--every', '1500ms', '--prompt', 'x');
    assert.equal(invalid.code, 1);
    assert.match(invalid.stderr, /error -32602: .*\n {2}job\.schedule\.every: every must be a whole number of seconds/);
  });
});
