import { createServer, type Server as HttpServer } from 'node:http';
import { createRequire } from 'node:module';
import type { INestApplication } from '@nestjs/common';
import { context, metrics, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SocketIOModuleOptions } from 'nest-socketio';
import { client, closeClients, connect } from '../../support/app.js';
import { connectError, disconnected } from '../../support/client-events.js';
import { startObservedApp } from '../../support/observability-app.js';
import { PullReader } from '../../support/otel-reader.js';

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const CLIENT_SPAN = 'b7ad6b7169203331';

let app: INestApplication | undefined;
let reader: PullReader;
let spans: InMemorySpanExporter;
let tracerProvider: TracerProvider;

async function start(options: SocketIOModuleOptions = {}) {
  const started = await startObservedApp(options);
  app = started.app;
  return started.url;
}

const collect = () => reader.moduleMetrics();
const points = (name: string) => reader.points(name);

/** The spans ended so far with this name (exports are asynchronous: flushed first). */
async function finished(name?: string): Promise<ReadableSpan[]> {
  await tracerProvider.forceFlush();
  return spans.getFinishedSpans().filter((s) => name === undefined || s.name === name);
}

beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
});
afterAll(() => {
  context.disable();
});

beforeEach(() => {
  reader = new PullReader();
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
  spans = new InMemorySpanExporter();
  tracerProvider = new TracerProvider({
    spanProcessors: [new SimpleSpanProcessor({ exporter: spans })],
  });
  trace.setGlobalTracerProvider(tracerProvider);
});

afterEach(async () => {
  closeClients();
  await app?.close();
  app = undefined;
  metrics.disable();
  trace.disable();
  propagation.disable();
});

describe('OpenTelemetry metrics (real SDK)', () => {
  it('counts connections up and down per namespace, never by sid', async () => {
    const url = await start();
    const a = await connect(url);
    await connect(url);
    expect(await points('socketio.connections')).toEqual([
      expect.objectContaining({ attributes: { 'socketio.namespace': '/' }, value: 2 }),
    ]);
    const gone = disconnected(a);
    a.disconnect();
    await gone;
    // The server sees the disconnect a moment after the client: wait for the count, not a time.
    for (let i = 0; i < 100 && (await points('socketio.connections'))[0]?.value !== 1; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    expect((await points('socketio.connections'))[0]?.value).toBe(1);
  });

  it('counts events by namespace, event and outcome, and times them in seconds', async () => {
    const url = await start({ handlerTimeout: 50, rateLimit: { points: 7, duration: 60_000 } });
    const c = await connect(url);
    await c.emitWithAck('echo', 1);
    await c.emitWithAck('echo', 2);
    await c.emitWithAck('bad');
    await c.emitWithAck('hang');
    await c.emitWithAck('guarded');
    await c.emitWithAck('boom');
    expect(await c.emitWithAck('echo', 3)).toMatchObject({ error: { status: 429 } });
    const counts = Object.fromEntries(
      (await points('socketio.events')).map((p) => [
        `${p.attributes['socketio.event']}:${p.attributes['socketio.outcome']}`,
        p.value,
      ]),
    );
    expect(counts).toEqual({
      'echo:ok': 2,
      'bad:error': 1,
      'hang:timeout': 1,
      'guarded:error': 1,
      'boom:error': 1,
      'echo:rate_limited': 1,
    });
    for (const p of await points('socketio.events')) {
      expect(Object.keys(p.attributes).toSorted()).toEqual([
        'socketio.event',
        'socketio.namespace',
        'socketio.outcome',
      ]);
    }
    const metric = (await collect()).find((m) => m.descriptor.name === 'socketio.event.duration')!;
    expect(metric.descriptor.unit).toBe('s');
    const hang = (metric.dataPoints as any[]).find(
      (p) => p.attributes['socketio.event'] === 'hang',
    );
    expect(hang.value.count).toBe(1);
    // 50 ms of handlerTimeout, recorded in seconds.
    expect(hang.value.sum).toBeGreaterThanOrEqual(0.04);
    expect(hang.value.sum).toBeLessThan(5);
  });

  it('caps the event names a catch-all handler records', async () => {
    const url = await start();
    const c = await connect(url);
    for (let i = 0; i < 60; i++) await c.emitWithAck(`made-up-${i}`);
    await c.emitWithAck('echo', 'named handlers keep their name');
    const names = (await points('socketio.events')).map((p) => p.attributes['socketio.event']);
    expect(names).toHaveLength(52);
    expect(names).toContain('*');
    expect(names).toContain('echo');
    expect(names).toContain('made-up-0');
    expect(names).not.toContain('made-up-59');
  });

  it('counts refused connections by namespace and reason', async () => {
    const url = await start();
    await connectError(client(`${url}/private`, { auth: { token: 'no' } }));
    await connectError(client(`${url}/private`));
    await connect(`${url}/private`, { auth: { token: 'ok' } });
    expect(await points('socketio.connection.refusals')).toEqual([
      expect.objectContaining({
        attributes: { 'socketio.namespace': '/private', 'socketio.reason': 'bad token' },
        value: 2,
      }),
    ]);
  });
});

describe('OpenTelemetry spans (real SDK)', () => {
  it("continues the client's traceparent from the handshake auth; the handler's work is its child", async () => {
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    const url = await start();
    const c = await connect(url, { auth: { traceparent: `00-${TRACE_ID}-${CLIENT_SPAN}-01` } });
    const active = (await c.emitWithAck('traced')) as { traceId: string; spanId: string };
    const [event] = await finished('/ traced');
    expect(event).toBeDefined();
    expect(event.kind).toBe(SpanKind.SERVER);
    expect(event.spanContext().traceId).toBe(TRACE_ID);
    expect(event.parentSpanContext?.spanId).toBe(CLIENT_SPAN);
    expect(event.attributes).toEqual({
      'socketio.namespace': '/',
      'socketio.event': 'traced',
      'socketio.outcome': 'ok',
    });
    // The span is the active context while the handler runs...
    expect(active).toEqual({ traceId: TRACE_ID, spanId: event.spanContext().spanId });
    // ...so what the handler does under a span of its own is a child of it.
    const [query] = await finished('db.query');
    expect(query.spanContext().traceId).toBe(TRACE_ID);
    expect(query.parentSpanContext?.spanId).toBe(event.spanContext().spanId);
  });

  it('reads traceparent from the headers too, without a propagator registered', async () => {
    const url = await start();
    const c = await connect(url, {
      extraHeaders: { traceparent: `00-${TRACE_ID}-${CLIENT_SPAN}-01` },
    });
    await c.emitWithAck('echo', 1);
    await c.emitWithAck('echo', 2);
    const events = await finished('/ echo');
    expect(events).toHaveLength(2);
    for (const span of events) {
      expect(span.spanContext().traceId).toBe(TRACE_ID);
      expect(span.parentSpanContext?.spanId).toBe(CLIENT_SPAN);
    }
    expect(events[0].spanContext().spanId).not.toBe(events[1].spanContext().spanId);
  });

  it('starts a new trace per event for a client that sent none, or a malformed one', async () => {
    const url = await start();
    const c = await connect(url, { auth: { traceparent: 'not-a-traceparent' } });
    await c.emitWithAck('echo', 1);
    await c.emitWithAck('echo', 2);
    const [one, two] = await finished('/ echo');
    expect(one.parentSpanContext).toBeUndefined();
    expect(one.spanContext().traceId).not.toBe(two.spanContext().traceId);
  });

  it('marks server failures as errors, and records client errors without failing the span', async () => {
    const url = await start({ handlerTimeout: 50 });
    const c = await connect(url);
    await c.emitWithAck('boom');
    await c.emitWithAck('bad');
    await c.emitWithAck('hang');
    const [boom] = await finished('/ boom');
    expect(boom.status).toEqual({ code: SpanStatusCode.ERROR, message: 'unexpected failure' });
    expect(boom.events.map((e) => e.name)).toEqual(['exception']);
    expect(boom.attributes['socketio.status']).toBe(500);
    const [bad] = await finished('/ bad');
    expect(bad.status.code).toBe(SpanStatusCode.UNSET);
    expect(bad.attributes).toMatchObject({ 'socketio.outcome': 'error', 'socketio.status': 400 });
    const [hang] = await finished('/ hang');
    expect(hang.status).toEqual({ code: SpanStatusCode.ERROR, message: 'handler timeout' });
    expect(hang.attributes['socketio.outcome']).toBe('timeout');
  });

  describe('with the HTTP instrumentation', () => {
    let upstream: HttpServer;
    let upstreamUrl: string;
    const instrumentation = new HttpInstrumentation();

    beforeAll(async () => {
      upstream = createServer((_req, res) => res.end('from upstream'));
      await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
      upstreamUrl = `http://127.0.0.1:${(upstream.address() as { port: number }).port}/data`;
    });
    afterAll(async () => {
      instrumentation.disable();
      await new Promise((resolve) => upstream.close(resolve));
    });

    it("makes an HTTP call of the handler a child of the event's span", async () => {
      registerInstrumentations({ instrumentations: [instrumentation], tracerProvider });
      // The instrumentation patches node:http when it is next required.
      createRequire(import.meta.url)('node:http');
      const url = await start();
      const c = await connect(url, { auth: { traceparent: `00-${TRACE_ID}-${CLIENT_SPAN}-01` } });
      expect(await c.emitWithAck('upstream', upstreamUrl)).toBe('from upstream');
      const [event] = await finished('/ upstream');
      const call = (await finished()).find(
        (s) =>
          s.kind === SpanKind.CLIENT && s.parentSpanContext?.spanId === event.spanContext().spanId,
      );
      expect(call, 'an HTTP client span under the event span').toBeDefined();
      expect(call!.spanContext().traceId).toBe(TRACE_ID);
    });
  });
});
