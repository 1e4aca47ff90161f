// OpenTelemetry tracing, for real: a tiny OTLP/HTTP receiver on loopback, the gateway
// configured to send to it, one turn; the spans of the client call, the workflow run and
// the activity arrive as one trace.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { startFakeAnthropic, type FakeAnthropic } from './support/fake-anthropic.js';
import { startTestGateway, uniqueScope, type TestGateway } from './support/gateway.js';
import { eventually, outcomeOf, sendMessage } from './support/sessions.js';

interface ReceivedSpan {
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  service: string;
}

let fake: FakeAnthropic;
let gateway: TestGateway;
let receiver: http.Server;
const spans: ReceivedSpan[] = [];
const contentTypes = new Set<string>();

before(async () => {
  receiver = http.createServer((request, response) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      const body = Buffer.concat(chunks);
      if (request.method !== 'POST' || request.url !== '/v1/traces') {
        response.writeHead(404).end();
        return;
      }
      contentTypes.add(String(request.headers['content-type']));
      const payload = JSON.parse(body.toString('utf8')) as {
        resourceSpans: { resource: { attributes: { key: string; value: { stringValue?: string } }[] }; scopeSpans: { spans: Omit<ReceivedSpan, 'service'>[] }[] }[];
      };
      for (const resourceSpans of payload.resourceSpans) {
        const service = resourceSpans.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
        for (const scope of resourceSpans.scopeSpans) for (const span of scope.spans) spans.push({ ...span, service });
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    })();
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  fake = await startFakeAnthropic();
  gateway = await startTestGateway({
    fake,
    // One turn per run: the run continues as new after it, which ends (and so exports) its RunWorkflow span.
    config: { observability: { tracing: { otlpEndpoint: endpoint } }, worker: { maxTurnsPerRun: 1 } },
  });
});
after(async () => {
  await gateway?.close();
  await fake?.close();
  await new Promise((resolve) => receiver?.close(resolve));
});

test('a turn sends the client, workflow and activity spans of one trace to the OTLP endpoint', async () => {
  const sessionKey = `agent:main:${uniqueScope('traced')}`;
  const sent = await sendMessage(gateway, { message: 'a traced turn', sessionKey });
  await outcomeOf(gateway, sessionKey, sent.messageId);

  const wanted = ['SignalWithStartWorkflow:sessionWorkflow', 'RunWorkflow:sessionWorkflow', 'StartActivity:runAgentTurn', 'RunActivity:runAgentTurn'];
  const found = await eventually('the spans of the turn', () => {
    const byName = new Map(spans.map((span) => [span.name, span]));
    return wanted.every((name) => byName.has(name)) ? byName : undefined;
  });
  const [client, run, start, activity] = wanted.map((name) => found.get(name)!) as [ReceivedSpan, ReceivedSpan, ReceivedSpan, ReceivedSpan];
  assert.equal(run.traceId, client.traceId, 'the workflow run continues the client call');
  assert.equal(start.traceId, client.traceId);
  assert.equal(activity.traceId, client.traceId, 'the activity continues the workflow');
  assert.equal(activity.parentSpanId, start.spanId, 'RunActivity is a child of StartActivity');
  assert.ok(spans.every((span) => span.service.startsWith('switchyard-')), 'spans name the service');
  assert.deepEqual([...contentTypes], ['application/json']);
});
