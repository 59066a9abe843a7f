import type { IncomingMessage, ServerResponse } from 'node:http';
import { Controller, Get, Req, Res } from '@nestjs/common';
import { metrics } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';

let exporter: PrometheusExporter | undefined;

/**
 * Registers an OpenTelemetry meter provider whose metrics `GET /metrics` serves in Prometheus'
 * text format. Once per process, before the app is created: nest-socketio picks up the SDK that
 * is registered when its first client connects. A real app would also register a tracer
 * provider (spans) here, or use @opentelemetry/sdk-node in a file loaded with `node --import`.
 */
export function registerTelemetry(): PrometheusExporter {
  if (exporter) return exporter;
  exporter = new PrometheusExporter({ preventServerStart: true });
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [exporter] }));
  return exporter;
}

/** Prometheus scrapes this. */
@Controller('metrics')
export class MetricsController {
  @Get()
  scrape(@Req() req: IncomingMessage, @Res() res: ServerResponse): void {
    registerTelemetry().getMetricsRequestHandler(req, res);
  }
}
