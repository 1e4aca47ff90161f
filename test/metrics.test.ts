// GET /metrics, end to end: real Temporal, the real claude CLI on the fake Messages API.
// The text must parse as Prometheus text, and its counters must move when a webhook, an
// RPC call and turns happen.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { RpcClient, RpcResponseError } from '../client/rpc-client.js';
import { metricsTokens } from '../api/routes/metrics.js';
import { buildApiServer } from '../api/server.js';
import { ConfigSchema } from '../config/schema.js';
import { createLogger } from '../observability/logger.js';
import { GatewayMetrics, METRICS, recordChannelRestart, recordChannelState, forgetChannel } from '../observability/metrics.js';
import { startFakeAnthropic, type FakeAnthropic } from './support/fake-anthropic.js';
import { postRaw, startTestGateway, uniqueScope, type TestGateway } from './support/gateway.js';
import { parsePrometheusText, sampleValue, type Family } from './support/prom-text.js';
import { eventually, outcomeOf, sendMessage } from './support/sessions.js';
import { sign } from './support/webhooks.js';

const GITHUB_SECRET = 'metrics-test-github-secret';
let fake: FakeAnthropic;
let gateway: TestGateway;

before(async () => {
  fake = await startFakeAnthropic();
  gateway = await startTestGateway({
    fake,
    config: {
      webhooks: { github: { verify: { type: 'github', secret: GITHUB_SECRET }, session: uniqueScope('gh'), prompt: 'github event {{body.action}}' } },
    },
  });
});
after(async () => {
  await gateway?.close();
  await fake?.close();
});

async function scrape(): Promise<Map<string, Family>> {
  const response = await fetch(`${gateway.url}/metrics`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(await response.text());
}

describe('GET /metrics', () => {
  test('parses as Prometheus text and declares every metric of the table with its help', async () => {
    const families = await scrape();
    for (const spec of Object.values(METRICS)) {
      const family = families.get(spec.name);
      assert.ok(family, `${spec.name} is exposed`);
      assert.equal(family.type, spec.type, spec.name);
      assert.equal(family.help, spec.help, spec.name);
    }
    assert.ok(families.has('process_cpu_user_seconds_total'), 'process metrics too');
  });

  test('counters move with a webhook, RPC calls and turns', async () => {
    const before = await scrape();
    const delta = (families: Map<string, Family>, name: string, labels: Record<string, string> = {}) =>
      sampleValue(families, name, labels) - sampleValue(before, name, labels);

    // A webhook of a configured source, and one of a source that does not exist.
    const body = JSON.stringify({ action: 'opened' });
    const signed = sign.github(body, { secret: GITHUB_SECRET });
    const hook = await postRaw(`${gateway.url}/hooks/github`, body, signed.headers);
    assert.equal(hook.status, 202, JSON.stringify(hook.body));
    assert.equal((await postRaw(`${gateway.url}/hooks/nosuchsource`, '{}', { 'content-type': 'application/json' })).status, 404);

    // A message through /hooks/agent, one through the RPC sessions.send, and a bad RPC call.
    const sessionKey = `agent:main:${uniqueScope('metrics')}`;
    const viaHook = await sendMessage(gateway, { message: 'metrics via hook', sessionKey });
    const rpc = await RpcClient.connect(gateway.rpcUrl);
    try {
      const viaRpc = (await rpc.call('sessions.send', { message: 'metrics via rpc', sessionKey })) as { messageId: string };
      await assert.rejects(rpc.call('sessions.get', { sessionKey: 'not a key' }), (error: unknown) => error instanceof RpcResponseError && error.code === -32602);
      const stream = await rpc.subscribe({ sessionKey });
      const during = await scrape();
      assert.equal(sampleValue(during, 'switchyard_websocket_connections'), 1);
      assert.equal(sampleValue(during, 'switchyard_rpc_subscriptions'), 1);
      await stream.unsubscribe();

      await outcomeOf(gateway, sessionKey, viaHook.messageId);
      await outcomeOf(gateway, sessionKey, viaRpc.messageId);
      await outcomeOf(gateway, `agent:main:${gateway.config.webhooks.github!.session}`, hook.body.messageId);
    } finally {
      await rpc.close();
    }

    // The outcomes reach the API's hub through the publishing activity, a moment after the query shows them.
    const after = await eventually('the third finished turn in /metrics', async () => {
      const families = await scrape();
      return delta(families, 'switchyard_turns_finished_total', { agent: 'main', outcome: 'completed' }) >= 3 ? families : undefined;
    });
    assert.equal(delta(after, 'switchyard_http_requests_total', { method: 'POST', route: '/hooks/agent', status: '202' }), 1);
    assert.equal(delta(after, 'switchyard_http_requests_total', { method: 'POST', route: '/hooks/:source', status: '404' }), 1);
    assert.equal(delta(after, 'switchyard_webhook_deliveries_total', { source: 'agent', status: '202' }), 1);
    assert.equal(delta(after, 'switchyard_webhook_deliveries_total', { source: 'github', status: '202' }), 1);
    assert.equal(delta(after, 'switchyard_webhook_deliveries_total', { source: 'unknown', status: '404' }), 1);
    assert.equal(delta(after, 'switchyard_rpc_calls_total', { method: 'sessions.send', code: 'ok' }), 1);
    assert.equal(delta(after, 'switchyard_rpc_calls_total', { method: 'sessions.get', code: '-32602' }), 1);
    assert.equal(delta(after, 'switchyard_rpc_call_duration_seconds_count', { method: 'sessions.send' }), 1);
    assert.equal(delta(after, 'switchyard_messages_accepted_total', { agent: 'main', source: 'hook:agent' }), 1);
    assert.equal(delta(after, 'switchyard_messages_accepted_total', { agent: 'main', source: 'rpc' }), 1);
    assert.equal(delta(after, 'switchyard_messages_accepted_total', { agent: 'main', source: 'hook:github' }), 1);
    assert.equal(delta(after, 'switchyard_turns_started_total', { agent: 'main' }), 3);
    assert.equal(delta(after, 'switchyard_turns_finished_total', { agent: 'main', outcome: 'completed' }), 3);
    assert.equal(delta(after, 'switchyard_turn_duration_seconds_count', { agent: 'main', outcome: 'completed' }), 3);
    assert.ok(delta(after, 'switchyard_turn_duration_seconds_sum', { agent: 'main', outcome: 'completed' }) > 0);
    assert.equal(delta(after, 'switchyard_turn_overhead_seconds_count', { agent: 'main' }), 3);
    assert.ok(delta(after, 'switchyard_turn_overhead_seconds_sum', { agent: 'main' }) > 0, 'the gateway takes some time of its own');
    assert.equal(sampleValue(after, 'switchyard_agent_turns_in_flight', { agent: 'main' }), 0);
    assert.equal(sampleValue(after, 'switchyard_websocket_connections'), 0);
  });

  test('agent slots in use and waiting, as the worker reports them', async () => {
    const sessionKey = `agent:main:${uniqueScope('slots')}`;
    fake.enqueueFor('slow metrics turn', { kind: 'text', text: 'slowly', chunks: 20, delayMs: 300 });
    const sent = await sendMessage(gateway, { message: 'slow metrics turn', sessionKey });
    await eventually('a slot in use while the turn runs', async () => {
      const families = await scrape();
      return sampleValue(families, 'switchyard_agent_turns_in_use', { agent: 'main' }) === 1 &&
        sampleValue(families, 'switchyard_agent_turns_in_flight', { agent: 'main' }) === 1 &&
        sampleValue(families, 'switchyard_agent_turns_waiting', { agent: 'main' }) === 0 &&
        sampleValue(families, 'switchyard_agent_slots') === gateway.config.worker.maxConcurrentTurns &&
        sampleValue(families, 'switchyard_workers_reporting') === 1;
    });
    await outcomeOf(gateway, sessionKey, sent.messageId);
    await eventually('the slot free again', async () => sampleValue(await scrape(), 'switchyard_agent_turns_in_use', { agent: 'main' }) === 0);
  });
});

describe('who may scrape', () => {
  const config = (input: Record<string, unknown>) => ConfigSchema.parse(input);

  test('loopback without a metrics token: open; beyond loopback: the gateway token; a metrics token: it or the gateway token', () => {
    assert.deepEqual(metricsTokens(config({})), []);
    assert.deepEqual(metricsTokens(config({ gateway: { auth: { token: 'gateway-token' } } })), []);
    assert.deepEqual(metricsTokens(config({ gateway: { bind: '0.0.0.0', auth: { token: 'gateway-token' } } })), ['gateway-token']);
    assert.deepEqual(metricsTokens(config({ observability: { metrics: { token: 'scrape-token' } } })), ['scrape-token']);
    assert.deepEqual(metricsTokens(config({ gateway: { auth: { token: 'gateway-token' } }, observability: { metrics: { token: 'scrape-token' } } })), ['scrape-token', 'gateway-token']);
  });

  test('a metrics token is required when configured', async () => {
    const connection = Connection.lazy({ address: '127.0.0.1:1' });
    const { app } = await buildApiServer({
      config: config({ observability: { metrics: { token: 'scrape-token' } } }),
      client: new Client({ connection }),
      logger: createLogger({ name: 'api', level: 'silent' }),
      internalToken: undefined,
    });
    try {
      assert.equal((await app.inject({ url: '/metrics' })).statusCode, 401);
      assert.equal((await app.inject({ url: '/metrics', headers: { authorization: 'Bearer wrong-token' } })).statusCode, 401);
      const ok = await app.inject({ url: '/metrics', headers: { authorization: 'Bearer scrape-token' } });
      assert.equal(ok.statusCode, 200);
      assert.ok(parsePrometheusText(ok.body).has('switchyard_http_requests_total'));
    } finally {
      await app.close();
      await connection.close();
    }
  });
});

test('channel metrics: restarts count, the state gauge is 1 for the current state only, a removed channel disappears', async () => {
  const metrics = new GatewayMetrics({ processMetrics: false });
  recordChannelState(metrics, 'slack', 'starting');
  recordChannelState(metrics, 'slack', 'running');
  recordChannelRestart(metrics, 'slack');
  recordChannelState(metrics, 'slack', 'backoff');
  let families = parsePrometheusText(await metrics.text());
  assert.equal(sampleValue(families, 'switchyard_channel_restarts_total', { channel: 'slack' }), 1);
  assert.equal(sampleValue(families, 'switchyard_channel_state', { channel: 'slack', state: 'backoff' }), 1);
  assert.equal(sampleValue(families, 'switchyard_channel_state', { channel: 'slack', state: 'running' }), 0);
  assert.equal(sampleValue(families, 'switchyard_channel_state', { channel: 'slack' }), 1);
  forgetChannel(metrics, 'slack');
  families = parsePrometheusText(await metrics.text());
  assert.equal(families.get('switchyard_channel_state')?.samples.length, 0);
});
