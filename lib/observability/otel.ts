import type {
  Attributes,
  Context,
  Counter,
  Histogram,
  Span,
  SpanOptions,
  Tracer,
  UpDownCounter,
} from '@opentelemetry/api';
import type { SocketEventOutcome } from './diagnostics.js';

type OtelApi = typeof import('@opentelemetry/api');

// What this file hands the rest of the module is opaque, so no declaration outside it (and none
// the package's types reach) names @opentelemetry/api, an optional peer.
/** The OpenTelemetry API, once loaded. */
export type LoadedOtelApi = object;
/** An OpenTelemetry context (the client's trace). */
export type TraceParent = object;

/** The instrumentation scope of every metric and span of the module. */
export const INSTRUMENTATION_SCOPE = 'nest-socketio';

// In seconds: socket handlers answer in well under a millisecond up to several seconds.
const DURATION_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/** `@opentelemetry/api` when the application installed it, else undefined (it is an optional peer). */
export async function loadOtelApi(): Promise<LoadedOtelApi | undefined> {
  try {
    const api = (await import('@opentelemetry/api')) as OtelApi & { default?: OtelApi };
    return api.trace ? api : api.default;
  } catch {
    return undefined;
  }
}

/** What one handled event holds while it runs: its labels, its span (if traced), its clock. */
export interface OtelEvent {
  /** The event's span name and attribute objects (looked up once, at the start). */
  labels: object;
  /** @opentelemetry/api's `Span` while tracing. */
  span?: object;
  /** @opentelemetry/api's `Context` while tracing. */
  context?: object;
  /** `performance.now()` at the start; NaN when the span keeps the time (the SDK's spans do). */
  start: number;
}

/** The SDK's spans (its `ReadableSpan`) know their start and, once ended, their duration. */
interface TimedSpan {
  startTime?: unknown;
  duration?: [number, number];
}

/**
 * The module's metrics and spans over the OpenTelemetry API. Built only when an SDK is
 * registered (a meter or tracer provider that is not the API's no-op one), so an application
 * without one pays nothing per event. Attribute objects are cached per label, so recording
 * allocates nothing.
 */
export class OtelRecorder {
  private readonly tracer?: Tracer;
  private readonly connections?: UpDownCounter;
  /** Counted here and read by the SDK when it collects: no attribute hashing per event. */
  private readonly eventCounts: OutcomeCount[] = [];
  private readonly duration?: Histogram;
  private readonly refusals?: Counter;
  /** Per namespace, per event: the span name and the attribute objects, built once. */
  private readonly labels = new Map<string, Map<string, EventLabels>>();
  private readonly namespaceAttributes = new Map<string, Attributes>();
  private readonly refusalAttributes = new Map<string, Attributes>();

  private constructor(
    private readonly api: OtelApi,
    tracer: Tracer | undefined,
    meter: ReturnType<OtelApi['metrics']['getMeter']> | undefined,
  ) {
    this.tracer = tracer;
    if (!meter) return;
    this.connections = meter.createUpDownCounter('socketio.connections', {
      description: 'Clients connected, by namespace',
      unit: '{connection}',
    });
    meter
      .createObservableCounter('socketio.events', {
        description: 'Client events handled, by namespace, event and outcome',
        unit: '{event}',
      })
      .addCallback((result) => {
        for (const { attributes, count } of this.eventCounts) result.observe(count, attributes);
      });
    this.duration = meter.createHistogram('socketio.event.duration', {
      description: 'Time from receiving a client event to its reply (or to the end of its handler)',
      unit: 's',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS },
    });
    this.refusals = meter.createCounter('socketio.connection.refusals', {
      description: 'Connection attempts refused, by namespace and reason',
      unit: '{connection}',
    });
  }

  /** A recorder when an OpenTelemetry SDK is registered, else undefined. */
  static create(loaded: LoadedOtelApi, version: string | undefined): OtelRecorder | undefined {
    const api = loaded as OtelApi;
    const meter = api.metrics.getMeter(INSTRUMENTATION_SCOPE, version);
    const hasMeter = meter !== api.createNoopMeter();
    const provider = api.trace.getTracerProvider() as {
      getDelegateTracer?(name: string, version?: string): Tracer | undefined;
      getTracer(name: string, version?: string): Tracer;
    };
    // The API hands out a proxy until an SDK registers: only a delegate is a real tracer.
    const tracer =
      typeof provider.getDelegateTracer === 'function'
        ? provider.getDelegateTracer(INSTRUMENTATION_SCOPE, version)
        : provider.getTracer(INSTRUMENTATION_SCOPE, version);
    if (!hasMeter && !tracer) return undefined;
    return new OtelRecorder(api, tracer, hasMeter ? meter : undefined);
  }

  get tracing(): boolean {
    return this.tracer !== undefined;
  }

  /**
   * The trace a client continues: its W3C `traceparent` (and `tracestate`) from the handshake
   * `auth`, else from the headers; undefined when it sent none (each event starts a new trace).
   */
  parentOf(
    auth: Record<string, unknown>,
    headers: Record<string, unknown>,
  ): TraceParent | undefined {
    if (!this.tracer) return undefined;
    const source = typeof auth?.traceparent === 'string' ? auth : headers;
    const traceparent = source.traceparent;
    if (typeof traceparent !== 'string') return undefined;
    const tracestate = typeof source.tracestate === 'string' ? source.tracestate : undefined;
    const { propagation, trace, ROOT_CONTEXT } = this.api;
    // The application's propagator first (it may read baggage too), then W3C by hand, so a
    // tracer registered without a propagator still continues the client's trace.
    const carrier = tracestate ? { traceparent, tracestate } : { traceparent };
    const extracted = propagation.extract(ROOT_CONTEXT, carrier);
    if (trace.getSpanContext(extracted)) return extracted;
    const match = TRACEPARENT.exec(traceparent.trim().toLowerCase());
    if (!match || match[1] === 'ff') return undefined;
    const spanContext = {
      traceId: match[2],
      spanId: match[3],
      traceFlags: parseInt(match[4], 16) & 1,
      isRemote: true,
      traceState: tracestate ? this.api.createTraceState(tracestate) : undefined,
    };
    if (!trace.isSpanContextValid(spanContext)) return undefined;
    return trace.setSpanContext(ROOT_CONTEXT, spanContext);
  }

  /** Starts one event: its span (a child of `parent`) and its clock. */
  startEvent(namespace: string, event: string, parent: TraceParent | undefined): OtelEvent {
    const labels = this.labelsOf(namespace, event);
    if (!this.tracer) return { labels, start: performance.now() };
    const base = (parent as Context | undefined) ?? this.api.ROOT_CONTEXT;
    const span = this.tracer.startSpan(labels.name, labels.spanOptions, base);
    // The SDK's span reads the clock itself: the duration comes from it, not from a second read.
    const timed = span as TimedSpan;
    const start =
      timed.startTime !== undefined && Array.isArray(timed.duration) ? NaN : performance.now();
    return { labels, span, context: this.api.trace.setSpan(base, span), start };
  }

  /**
   * Runs `fn` with the event's span as the active context (children of it are the handler's
   * work): one `context.with`, no closure of its own.
   */
  run<T, R>(otel: OtelEvent, fn: (this: T) => R, self: T): R {
    return otel.context ? this.api.context.with(otel.context as Context, fn, self) : fn.call(self);
  }

  endEvent(
    otel: OtelEvent,
    outcome: SocketEventOutcome,
    status: number | undefined,
    error: unknown,
  ): void {
    const counted = this.outcome(otel.labels as EventLabels, outcome);
    counted.count++;
    const span = otel.span as Span | undefined;
    if (span) this.endSpan(span, outcome, status, error);
    if (!this.duration) return;
    if (!Number.isNaN(otel.start)) {
      this.duration.record((performance.now() - otel.start) / 1000, counted.attributes);
      return;
    }
    // A span that keeps no duration of its own after all is not timed (never a NaN sample).
    const spent = (span as TimedSpan | undefined)?.duration;
    if (Array.isArray(spent) && spent[0] >= 0) {
      this.duration.record(spent[0] + spent[1] / 1e9, counted.attributes);
    }
  }

  private endSpan(
    span: Span,
    outcome: SocketEventOutcome,
    status: number | undefined,
    error: unknown,
  ): void {
    span.setAttribute('socketio.outcome', outcome);
    if (outcome !== 'ok') {
      if (status !== undefined) span.setAttribute('socketio.status', status);
      // Only server faults mark the span as failed; a refused payload (4xx) is the client's.
      if (status === undefined || status >= 500) {
        span.setStatus({
          code: this.api.SpanStatusCode.ERROR,
          message: outcome === 'timeout' ? 'handler timeout' : errorMessage(error),
        });
        if (error instanceof Error && status === 500) span.recordException(error);
      }
    }
    span.end();
  }

  /** An event refused before any handler ran (rate limit): counted, not timed. */
  refusedEvent(namespace: string, event: string): void {
    this.outcome(this.labelsOf(namespace, event), 'rate_limited').count++;
  }

  connected(namespace: string, delta: 1 | -1): void {
    let attributes = this.namespaceAttributes.get(namespace);
    if (!attributes) {
      this.namespaceAttributes.set(namespace, (attributes = { 'socketio.namespace': namespace }));
    }
    this.connections?.add(delta, attributes);
  }

  refusedConnection(namespace: string, reason: string): void {
    const key = `${namespace} ${reason}`;
    let attributes = this.refusalAttributes.get(key);
    if (!attributes) {
      attributes = { 'socketio.namespace': namespace, 'socketio.reason': reason };
      this.refusalAttributes.set(key, attributes);
    }
    this.refusals?.add(1, attributes);
  }

  private labelsOf(namespace: string, event: string): EventLabels {
    let events = this.labels.get(namespace);
    if (!events) this.labels.set(namespace, (events = new Map()));
    let labels = events.get(event);
    if (!labels) {
      const attributes = { 'socketio.namespace': namespace, 'socketio.event': event };
      labels = {
        name: `${namespace} ${event}`,
        spanOptions: { kind: this.api.SpanKind.SERVER, attributes },
        byOutcome: new Map(),
      };
      events.set(event, labels);
    }
    return labels;
  }

  private outcome(labels: EventLabels, outcome: string): OutcomeCount {
    let counted = labels.byOutcome.get(outcome);
    if (!counted) {
      const attributes = { ...labels.spanOptions.attributes, 'socketio.outcome': outcome };
      counted = { attributes, count: 0 };
      labels.byOutcome.set(outcome, counted);
      this.eventCounts.push(counted);
    }
    return counted;
  }
}

interface EventLabels {
  name: string;
  spanOptions: SpanOptions & { attributes: Attributes };
  byOutcome: Map<string, OutcomeCount>;
}

interface OutcomeCount {
  attributes: Attributes;
  count: number;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
