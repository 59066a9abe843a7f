import { context, metrics, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { BatchSpanProcessor, TracerProvider, type SpanExporter } from '@opentelemetry/sdk-trace';

/** Holds the metrics in memory, as a Prometheus exporter does between two scrapes. */
class UnscrapedReader extends MetricReader {
  protected async onShutdown(): Promise<void> {}
  protected async onForceFlush(): Promise<void> {}
}

/** Accepts every batch of spans and sends it nowhere: the SDK's full cost, no network. */
const noopExporter: SpanExporter = {
  export: (_spans, done) => done({ code: 0 }),
  shutdown: async () => {},
};

/** An OpenTelemetry SDK as an app registers it: context manager, meter and tracer providers. */
export function registerBenchSdk(parts = { metrics: true, traces: true }): void {
  if (parts.metrics) {
    metrics.setGlobalMeterProvider(new MeterProvider({ readers: [new UnscrapedReader()] }));
  }
  if (!parts.traces) return;
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(
    new TracerProvider({ spanProcessors: [new BatchSpanProcessor({ exporter: noopExporter })] }),
  );
}
