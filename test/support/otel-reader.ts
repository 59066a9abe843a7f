import { MetricReader, type MetricData } from '@opentelemetry/sdk-metrics';

/** A reader the test collects from whenever it wants (the SDK's own in-memory pull). */
export class PullReader extends MetricReader {
  protected async onShutdown(): Promise<void> {}
  protected async onForceFlush(): Promise<void> {}

  /** The module's metrics collected now. */
  async moduleMetrics(): Promise<MetricData[]> {
    const { resourceMetrics } = await this.collect();
    return resourceMetrics.scopeMetrics
      .filter((s) => s.scope.name === 'nest-socketio')
      .flatMap((s) => s.metrics);
  }

  /** The data points of one of the module's metrics, collected now. */
  async points(name: string) {
    const metric = (await this.moduleMetrics()).find((m) => m.descriptor.name === name);
    return (metric?.dataPoints ?? []) as { attributes: Record<string, unknown>; value: any }[];
  }
}
