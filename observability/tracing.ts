// OpenTelemetry tracing, on only when `observability.tracing.otlpEndpoint` is set: spans of
// the Temporal interceptors (client calls in the API, workflow and activity runs in the
// worker) go to an OTLP/HTTP collector as JSON. Off, none of the OpenTelemetry modules is
// even loaded.
//
// The provider is registered globally (tracer, W3C trace-context propagator, async context),
// because the Temporal interceptors propagate context through the global propagator; so
// there is one per process, the first caller's, even when a test runs the API and the
// worker in one process.
import type { Tracer } from '@opentelemetry/api';
import type { WorkflowClientInterceptor } from '@temporalio/client';
import type { OpenTelemetryWorkflowExporter } from '@temporalio/interceptors-opentelemetry';
import type { ActivityInterceptorsFactory, InjectedSink } from '@temporalio/worker';
import type { Config } from '../config/schema.js';

export interface Tracing {
  tracer: Tracer;
  /** For every Temporal Client: StartWorkflow, SignalWithStartWorkflow, StartWorkflowUpdate, QueryWorkflow, ... spans. */
  clientInterceptors: WorkflowClientInterceptor[];
  /** For every worker: a RunActivity span per activity, a child of the workflow's StartActivity span. */
  activityInterceptors: ActivityInterceptorsFactory[];
  /** For the workflow worker: workflow spans leave the sandbox through this sink. */
  workflowSinks: { exporter: InjectedSink<OpenTelemetryWorkflowExporter> };
  /** Sends what is buffered; call before the process exits. */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

let installed: Promise<Tracing> | undefined;

/** Undefined when tracing is off. */
export async function installTracing(config: Config, role: 'api' | 'worker'): Promise<Tracing | undefined> {
  const endpoint = config.observability.tracing.otlpEndpoint;
  if (!endpoint) return undefined;
  installed ??= create(endpoint, `${config.observability.tracing.serviceName}-${role}`);
  return installed;
}

async function create(endpoint: string, serviceName: string): Promise<Tracing> {
  const [{ OTLPTraceExporter }, { Resource }, { BatchSpanProcessor }, { NodeTracerProvider }, otel] = await Promise.all([
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/sdk-trace-node'),
    import('@temporalio/interceptors-opentelemetry'),
  ]);
  const resource = new Resource({ 'service.name': serviceName });
  const exporter = new OTLPTraceExporter({ url: `${endpoint.replace(/\/+$/, '')}/v1/traces` });
  // Batched: a span costs the request path an array push, not an HTTP call.
  const spanProcessor = new BatchSpanProcessor(exporter, { scheduledDelayMillis: 1000 });
  const provider = new NodeTracerProvider({ resource, spanProcessors: [spanProcessor] });
  provider.register();
  const tracer = provider.getTracer('switchyard');
  return {
    tracer,
    clientInterceptors: [new otel.OpenTelemetryWorkflowClientInterceptor({ tracer })],
    activityInterceptors: [
      (ctx) => ({
        inbound: new otel.OpenTelemetryActivityInboundInterceptor(ctx, { tracer }),
        outbound: new otel.OpenTelemetryActivityOutboundInterceptor(ctx),
      }),
    ],
    workflowSinks: { exporter: otel.makeWorkflowExporter(spanProcessor, resource) },
    flush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}
