import { context, trace, type Span, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { AlwaysOffSampler, BatchSpanProcessor, NoopSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { Config } from './config.js';

export interface Tracing {
  tracer: Tracer;
  resource: Resource;
  /** Where finished spans go: OTLP when an endpoint is configured, nowhere otherwise. */
  spanProcessor: SpanProcessor;
  shutdown(): Promise<void>;
}

let installed: Tracing | undefined;

/**
 * Trace context always propagates (so logs from the API to the activity share a trace id);
 * spans are exported only when an OTLP endpoint is configured. Installed once per process.
 */
export function setupTracing(telemetry: Config['telemetry'], component: string): Tracing {
  if (installed) return installed;
  const resource = new Resource({ 'service.name': telemetry.serviceName, 'service.component': component });
  const spanProcessor = telemetry.otlpTracesEndpoint
    ? new BatchSpanProcessor(new OTLPTraceExporter({ url: telemetry.otlpTracesEndpoint }))
    : new NoopSpanProcessor();
  // Without an exporter no span is recorded (no attributes, timings or events kept per request):
  // spans still get their ids, so trace context propagates and log lines carry it all the same.
  const sampler = telemetry.otlpTracesEndpoint ? {} : { sampler: new AlwaysOffSampler() };
  const provider = new NodeTracerProvider({ resource, spanProcessors: [spanProcessor], ...sampler });
  provider.register();
  installed = {
    tracer: trace.getTracer('mediaflow'),
    resource,
    spanProcessor,
    shutdown: () => provider.shutdown(),
  };
  return installed;
}

/** Trace and span ids of the active span, for log lines. */
export function traceFields(): { trace_id?: string; span_id?: string } {
  const span: Span | undefined = trace.getSpan(context.active());
  const ctx = span?.spanContext();
  return ctx && trace.isSpanContextValid(ctx) ? { trace_id: ctx.traceId, span_id: ctx.spanId } : {};
}
