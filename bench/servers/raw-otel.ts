import { context, metrics, ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import type { ServerConfig } from '../protocol.js';
import type { BenchServer } from './bench-server.js';
import { startRaw } from './raw.js';

/**
 * Raw socket.io doing by hand, per event, what nest-socketio does with an OpenTelemetry SDK
 * registered: a span with the same attributes as the active context while the handler runs,
 * a duration histogram sample and a count. Against `raw` it is the SDK's own cost: the floor
 * the module's `nest-socketio-otel` / `nest-socketio` ratio is judged by.
 */
export function startRawOtel(config: ServerConfig): Promise<BenchServer> {
  const tracer = trace.getTracer('nest-socketio');
  const meter = metrics.getMeter('nest-socketio');
  const duration = meter.createHistogram('socketio.event.duration', { unit: 's' });
  const connections = meter.createUpDownCounter('socketio.connections');
  let events = 0;
  const counted = { 'socketio.namespace': '/', 'socketio.event': 'echo', 'socketio.outcome': 'ok' };
  meter.createObservableCounter('socketio.events').addCallback((r) => r.observe(events, counted));
  const options = {
    kind: SpanKind.SERVER,
    attributes: { 'socketio.namespace': '/', 'socketio.event': 'echo' },
  };
  const namespace = { 'socketio.namespace': '/' };
  return startRaw(config, {
    connected(socket) {
      connections.add(1, namespace);
      socket.once('disconnect', () => connections.add(-1, namespace));
    },
    echo(data, ack) {
      const start = performance.now();
      const span = tracer.startSpan('/ echo', options, ROOT_CONTEXT);
      context.with(trace.setSpan(ROOT_CONTEXT, span), () => ack(data));
      events++;
      duration.record((performance.now() - start) / 1000, counted);
      span.setAttribute('socketio.outcome', 'ok');
      span.end();
    },
  });
}
