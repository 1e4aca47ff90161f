// The worker process as `switchyard start` runs it (worker/main.ts), with
// observability.temporalMetrics.prometheusAddress set: the Temporal SDK serves its own
// metrics there, and the worker reports its agent slots to the API's /metrics.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { startFakeAnthropic, type FakeAnthropic } from './support/fake-anthropic.js';
import { INTERNAL_TOKEN, startTestGateway, temporalAddress, uniqueScope, type TestGateway } from './support/gateway.js';
import { freePort } from './support/processes.js';
import { parsePrometheusText, sampleValue, type Family } from './support/prom-text.js';
import { eventually, outcomeOf, sendMessage } from './support/sessions.js';

let fake: FakeAnthropic;
let gateway: TestGateway;
let worker: ChildProcess;
let home: string;
let sdkMetricsUrl: string;
let output = '';

before(async () => {
  fake = await startFakeAnthropic();
  // The API only: the worker is the real process below.
  gateway = await startTestGateway({ fake, worker: false });
  home = mkdtempSync(path.join(tmpdir(), 'switchyard-worker-metrics-'));
  const port = await freePort();
  sdkMetricsUrl = `http://127.0.0.1:${port}/metrics`;
  const agent = gateway.config.agentDefaults;
  worker = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), path.resolve(import.meta.dirname, '../worker/main.ts')], {
    cwd: home,
    env: {
      ...process.env,
      SWITCHYARD_HOME: home,
      SWITCHYARD_INTERNAL_TOKEN: INTERNAL_TOKEN,
      SWITCHYARD_TEMPORAL__ADDRESS: temporalAddress(),
      SWITCHYARD_TEMPORAL__NAMESPACE: gateway.config.temporal.namespace,
      SWITCHYARD_GATEWAY__PORT: new URL(gateway.url).port,
      SWITCHYARD_OBSERVABILITY__TEMPORAL_METRICS__PROMETHEUS_ADDRESS: `127.0.0.1:${port}`,
      SWITCHYARD_AGENT_DEFAULTS__COMMAND: agent.command,
      SWITCHYARD_AGENT_DEFAULTS__CWD: agent.cwd,
      SWITCHYARD_AGENT_DEFAULTS__ENV: JSON.stringify(agent.env),
      SWITCHYARD_LOG__LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  worker.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  worker.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
});
after(async () => {
  if (worker && worker.exitCode === null) {
    worker.kill('SIGTERM');
    await new Promise((resolve) => worker.once('exit', resolve));
  }
  await gateway?.close();
  await fake?.close();
  if (home) rmSync(home, { recursive: true, force: true });
});

async function scrape(url: string): Promise<Map<string, Family>> {
  const response = await fetch(url);
  assert.equal(response.status, 200);
  return parsePrometheusText(await response.text());
}

test('the SDK serves temporal_* worker metrics, and the worker reports its slots to the API', async () => {
  const sessionKey = `agent:main:${uniqueScope('sdk-metrics')}`;
  const sent = await sendMessage(gateway, { message: 'a turn on the worker process', sessionKey });
  await outcomeOf(gateway, sessionKey, sent.messageId);

  const families = await eventually(`the SDK's metrics at ${sdkMetricsUrl} (worker output: ${output})`, async () => {
    const found = await scrape(sdkMetricsUrl);
    return found.has('temporal_activity_execution_latency') ? found : undefined;
  });
  if (process.env.SWITCHYARD_PRINT_SDK_METRICS) console.log([...families.values()].map((f) => `${f.name} ${f.type} ${f.help}`).join('\n'));
  for (const name of ['temporal_worker_task_slots_available', 'temporal_workflow_task_schedule_to_start_latency', 'temporal_activity_schedule_to_start_latency', 'temporal_worker_task_slots_used']) {
    assert.ok(families.has(name), `${name} is served`);
  }
  assert.ok(sampleValue(families, 'temporal_worker_task_slots_available', { task_queue: 'switchyard-agents', worker_type: 'ActivityWorker' }) > 0);

  const api = `${gateway.url}/metrics`;
  let last = '';
  await eventually('the worker counted by the API', async () => {
    const metrics = await scrape(api);
    last = `reporting ${sampleValue(metrics, 'switchyard_workers_reporting')}, slots ${sampleValue(metrics, 'switchyard_agent_slots')}`;
    return sampleValue(metrics, 'switchyard_workers_reporting') === 1 && sampleValue(metrics, 'switchyard_agent_slots') === 4;
  }).catch((error: Error) => assert.fail(`${error.message}; last seen: ${last}; worker output: ${output}`));
  worker.kill('SIGTERM');
  await new Promise((resolve) => worker.once('exit', resolve));
  assert.equal(sampleValue(await scrape(api), 'switchyard_workers_reporting'), 0, 'a stopping worker says goodbye');
});
