// Turn metrics derived from session events, and the SDK log bridge: pure logic, no Temporal.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import type { SessionEvent } from '../contracts/events.js';
import { ConcurrencyView } from '../observability/concurrency-view.js';
import { createLogger } from '../observability/logger.js';
import { GatewayMetrics } from '../observability/metrics.js';
import { PinoSdkLogger } from '../observability/temporal-logger.js';
import { TurnMetrics } from '../observability/turn-metrics.js';
import { parsePrometheusText, sampleValue } from './support/prom-text.js';

const session = 'agent:main:unit';
let seq = 0;
const event = (type: SessionEvent['type'], turnId: string, ts: number, data: Record<string, unknown> = {}, sessionKey = session): SessionEvent => ({
  sessionKey,
  seq: ++seq,
  turnId,
  type,
  data,
  ts,
});

async function read(metrics: GatewayMetrics) {
  return parsePrometheusText(await metrics.text());
}

test('a turn: counted once even when its events are delivered twice; duration and overhead as documented', async () => {
  const metrics = new GatewayMetrics({ processMetrics: false });
  const turns = new TurnMetrics(metrics);
  const queued = event('turn.queued', 'm1', 1_000, { messageId: 'm1', source: 'rpc' });
  const started = event('turn.started', 'm1', 1_050, { messageIds: ['m1'] });
  const completed = event('turn.completed', 'm1', 3_050, { messageIds: ['m1'], processMs: 1_900 });
  for (const e of [queued, started, queued, started, completed, completed]) turns.observe(e);
  const families = await read(metrics);
  assert.equal(sampleValue(families, 'switchyard_messages_accepted_total', { agent: 'main', source: 'rpc' }), 1);
  assert.equal(sampleValue(families, 'switchyard_turns_started_total', { agent: 'main' }), 1);
  assert.equal(sampleValue(families, 'switchyard_turns_finished_total', { agent: 'main', outcome: 'completed' }), 1);
  assert.equal(sampleValue(families, 'switchyard_turn_duration_seconds_sum', { agent: 'main', outcome: 'completed' }), 2);
  // accepted at 1.000 s, completed at 3.050 s, the process took 1.900 s: 0.150 s are the gateway's.
  assert.ok(Math.abs(sampleValue(families, 'switchyard_turn_overhead_seconds_sum', { agent: 'main' }) - 0.15) < 1e-9);
});

test('overhead counts from the end of the previous turn for a message that waited behind it', async () => {
  const metrics = new GatewayMetrics({ processMetrics: false });
  const turns = new TurnMetrics(metrics);
  const key = 'agent:main:queue';
  turns.observe(event('turn.queued', 'a', 0, { messageId: 'a', source: 'rpc' }, key));
  turns.observe(event('turn.queued', 'b', 10, { messageId: 'b', source: 'rpc' }, key));
  turns.observe(event('turn.started', 'a', 20, {}, key));
  turns.observe(event('turn.completed', 'a', 1_020, { messageIds: ['a'], processMs: 900 }, key)); // 0.120 s
  turns.observe(event('turn.started', 'b', 1_040, {}, key));
  turns.observe(event('turn.completed', 'b', 2_100, { messageIds: ['b'], processMs: 1_000 }, key)); // 2.100 - 1.020 - 1.000 = 0.080 s
  const families = await read(metrics);
  assert.equal(sampleValue(families, 'switchyard_turn_overhead_seconds_count', { agent: 'main' }), 2);
  assert.ok(Math.abs(sampleValue(families, 'switchyard_turn_overhead_seconds_sum', { agent: 'main' }) - 0.2) < 1e-9);
});

test('schedule runs by outcome; a message cancelled in the queue is no turn; in flight, in use and waiting', async () => {
  const metrics = new GatewayMetrics({ processMetrics: false });
  const turns = new TurnMetrics(metrics);
  const concurrency = new ConcurrencyView(metrics, turns);
  const key = 'agent:ops:cron:nightly';
  turns.observe(event('turn.queued', 'c1', 0, { messageId: 'c1', source: 'cron:nightly' }, key));
  turns.observe(event('turn.queued', 'c2', 0, { messageId: 'c2', source: 'cron:nightly' }, key));
  turns.observe(event('turn.started', 'c1', 5, {}, key));
  turns.observe(event('turn.cancelled', 'c2', 6, { messageIds: ['c2'], queued: true, reason: 'cleared' }, key));
  concurrency.report({ workerId: 'w1', slots: 4, inUse: {} });
  let families = await read(metrics);
  assert.equal(sampleValue(families, 'switchyard_schedule_runs_total', { schedule: 'nightly', outcome: 'cancelled' }), 1);
  assert.equal(sampleValue(families, 'switchyard_turns_finished_total'), 0, 'the queued message that was cancelled is not a turn');
  assert.equal(sampleValue(families, 'switchyard_agent_turns_in_flight', { agent: 'ops' }), 1);
  assert.equal(sampleValue(families, 'switchyard_agent_turns_waiting', { agent: 'ops' }), 1);
  assert.equal(sampleValue(families, 'switchyard_agent_slots'), 4);

  concurrency.report({ workerId: 'w1', slots: 4, inUse: { ops: 1 } });
  families = await read(metrics);
  assert.equal(sampleValue(families, 'switchyard_agent_turns_in_use', { agent: 'ops' }), 1);
  assert.equal(sampleValue(families, 'switchyard_agent_turns_waiting', { agent: 'ops' }), 0);

  turns.observe(event('turn.failed', 'c1', 50, { messageIds: ['c1'], reason: 'x', errorType: 'AgentApiError' }, key));
  concurrency.report({ workerId: 'w1', slots: 4, inUse: {}, gone: true });
  families = await read(metrics);
  assert.equal(sampleValue(families, 'switchyard_schedule_runs_total', { schedule: 'nightly', outcome: 'failed' }), 1);
  assert.equal(sampleValue(families, 'switchyard_agent_turns_in_flight', { agent: 'ops' }), 0);
  assert.equal(sampleValue(families, 'switchyard_agent_slots'), 0);
  assert.equal(sampleValue(families, 'switchyard_workers_reporting'), 0);
});

test('the SDK log bridge: workflow and activity lines at the logger level, the SDK own lines at WARN and up', () => {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({ write: (chunk, _encoding, done) => (lines.push(JSON.parse(String(chunk))), done()) });
  const sdk = new PinoSdkLogger(createLogger({ name: 'worker', level: 'info', destination }));
  sdk.info('turn started', { sdkComponent: 'workflow', requestId: 'r1', workflowId: 'session:x' });
  sdk.info('Worker state changed', { sdkComponent: 'worker' });
  sdk.debug('claude detail', { sdkComponent: 'activity' });
  sdk.warn('Activity failed', { sdkComponent: 'worker', error: new Error('boom') });
  assert.deepEqual(lines.map((line) => line.msg), ['turn started', 'Activity failed']);
  assert.equal(lines[0]!.requestId, 'r1');
  assert.equal(lines[0]!.level, 30);
  assert.equal((lines[1]!.err as { message: string }).message, 'boom');
});
