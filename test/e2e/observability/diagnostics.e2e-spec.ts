import diagnostics from 'node:diagnostics_channel';
import type { INestApplication } from '@nestjs/common';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CONNECTION_CHANNEL,
  ERROR_CHANNEL,
  EVENT_CHANNEL,
  type SocketConnectionMessage,
  type SocketErrorMessage,
  type SocketEventMessage,
  type SocketIOModuleOptions,
} from 'nest-socketio';
import { client, closeClients, connect } from '../../support/app.js';
import { connectError, deferred, disconnected } from '../../support/client-events.js';
import { apmStore, RecordingLogger, startObservedApp } from '../../support/observability-app.js';

let app: INestApplication | undefined;
const cleanups: (() => void)[] = [];

async function start(options: SocketIOModuleOptions = {}) {
  const started = await startObservedApp(options);
  app = started.app;
  return started.url;
}

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) cleanup();
  closeClients();
  await app?.close();
  app = undefined;
});

/** Records every message of the event tracing channel as [phase, a copy of the context]. */
function traceEvents() {
  const seen: [string, SocketEventMessage][] = [];
  const record = (phase: string) => (message: unknown) => {
    const m = message as SocketEventMessage;
    seen.push([phase, { ...m }]);
  };
  const handlers = {
    start: record('start'),
    end: record('end'),
    asyncStart: record('asyncStart'),
    asyncEnd: record('asyncEnd'),
    error: record('error'),
  };
  const channel = diagnostics.tracingChannel(EVENT_CHANNEL);
  channel.subscribe(handlers);
  cleanups.push(() => channel.unsubscribe(handlers));
  return {
    seen,
    /** The phases seen for one event name, in order. */
    phases: (event: string) => seen.filter(([, m]) => m.event === event).map(([p]) => p),
    last: (event: string) => seen.filter(([, m]) => m.event === event).at(-1)?.[1],
  };
}

function subscribe<T>(name: string): T[] {
  const seen: T[] = [];
  const listener = (message: unknown) => seen.push(message as T);
  diagnostics.subscribe(name, listener);
  cleanups.push(() => diagnostics.unsubscribe(name, listener));
  return seen;
}

describe("tracingChannel('nest-socketio:event')", () => {
  it('traces a synchronous handler: start, then end with the outcome', async () => {
    const trace = traceEvents();
    const url = await start();
    const c = await connect(url);
    expect(await c.emitWithAck('echo', 'hi')).toBe('hi');
    expect(trace.phases('echo')).toEqual(['start', 'end']);
    const end = trace.last('echo')!;
    expect(end).toMatchObject({
      namespace: '/',
      event: 'echo',
      sid: c.id,
      outcome: 'ok',
      result: 'hi',
    });
    expect(end.args).toEqual(['hi']);
  });

  it('traces an async handler through asyncStart and asyncEnd', async () => {
    const trace = traceEvents();
    const url = await start();
    const c = await connect(url);
    expect(await c.emitWithAck('later', 7)).toBe(7);
    expect(trace.phases('later')).toEqual(['start', 'end', 'asyncStart', 'asyncEnd']);
    expect(trace.last('later')).toMatchObject({ outcome: 'ok', result: 7 });
  });

  it('publishes error with the status for thrown, rejected and guard-refused events', async () => {
    const trace = traceEvents();
    const url = await start();
    const c = await connect(url);
    expect(await c.emitWithAck('boom')).toEqual({
      error: { status: 500, message: 'Internal server error' },
    });
    expect(trace.phases('boom')).toEqual(['start', 'error', 'end']);
    expect(trace.last('boom')).toMatchObject({ outcome: 'error', status: 500 });

    expect(await c.emitWithAck('bad')).toMatchObject({ error: { status: 400 } });
    expect(trace.phases('bad')).toEqual(['start', 'end', 'error', 'asyncStart', 'asyncEnd']);
    expect(trace.last('bad')).toMatchObject({ outcome: 'error', status: 400 });

    // Nest's chain (a guard) answers through the exception filter; the event still ends in error.
    expect(await c.emitWithAck('guarded')).toMatchObject({ error: { status: 403 } });
    expect(trace.last('guarded')).toMatchObject({ outcome: 'error', status: 403 });
  });

  it('ends a handler that outlives handlerTimeout with the outcome timeout (504)', async () => {
    const trace = traceEvents();
    const url = await start({ handlerTimeout: 50 });
    const c = await connect(url);
    expect(await c.emitWithAck('hang')).toEqual({
      error: { status: 504, message: 'Gateway Timeout' },
    });
    expect(trace.last('hang')).toMatchObject({ outcome: 'timeout', status: 504 });
  });

  it('runs the handler inside the stores an APM binds to start (the APM recipe)', async () => {
    const channel = diagnostics.tracingChannel(EVENT_CHANNEL);
    channel.start.bindStore(apmStore, (message) => ({
      traced: `${(message as SocketEventMessage).namespace} ${(message as SocketEventMessage).event}`,
    }));
    cleanups.push(() => channel.start.unbindStore(apmStore));
    const url = await start();
    const c = await connect(url);
    expect(await c.emitWithAck('apm')).toEqual({ traced: '/ apm' });
  });

  it('gives a catch-all handler the real event name', async () => {
    const trace = traceEvents();
    const url = await start();
    const c = await connect(url);
    expect(await c.emitWithAck('anything-else')).toBe('anything-else');
    expect(trace.last('anything-else')).toMatchObject({ event: 'anything-else', outcome: 'ok' });
  });
});

describe('without an OpenTelemetry SDK', () => {
  it('runs handlers outside any span (@opentelemetry/api alone records nothing)', async () => {
    const url = await start();
    const c = await connect(url, {
      auth: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
    });
    expect(await c.emitWithAck('traced')).toBe('no span');
  });
});

describe("channel('nest-socketio:connection')", () => {
  it('publishes accepted, refused with the reason, and disconnected', async () => {
    const seen = subscribe<SocketConnectionMessage>(CONNECTION_CHANNEL);
    const url = await start();
    const c = await connect(url);
    expect(seen).toContainEqual(
      expect.objectContaining({ type: 'accepted', namespace: '/', sid: c.id }),
    );
    const refused = client(`${url}/private`, { auth: { token: 'wrong' } });
    expect((await connectError(refused)).message).toBe('bad token');
    expect(seen).toContainEqual(
      expect.objectContaining({ type: 'refused', namespace: '/private', reason: 'bad token' }),
    );
    const sid = c.id;
    const gone = deferred<SocketConnectionMessage>();
    diagnostics.subscribe(CONNECTION_CHANNEL, function onGone(m) {
      if ((m as SocketConnectionMessage).type !== 'disconnected') return;
      diagnostics.unsubscribe(CONNECTION_CHANNEL, onGone);
      gone.resolve(m as SocketConnectionMessage);
    });
    c.disconnect();
    expect(await gone.promise).toMatchObject({
      type: 'disconnected',
      namespace: '/',
      sid,
      reason: 'client namespace disconnect',
    });
  });

  it('publishes refusals of the engine, before any namespace (a disallowed origin)', async () => {
    const seen = subscribe<SocketConnectionMessage>(CONNECTION_CHANNEL);
    const url = await start();
    const res = await fetch(`${url}/socket.io/?EIO=4&transport=polling`, {
      headers: { origin: 'https://evil.example' },
    });
    expect(res.status).toBe(403);
    expect(seen).toContainEqual(
      expect.objectContaining({ type: 'refused', reason: 'Forbidden: Origin not allowed' }),
    );
  });
});

describe("channel('nest-socketio:error')", () => {
  it('publishes every error reply with its status, and marks rate-limit and time-limit refusals', async () => {
    const seen = subscribe<SocketErrorMessage>(ERROR_CHANNEL);
    const url = await start({ rateLimit: { points: 4, duration: 60_000 }, handlerTimeout: 50 });
    const c = await connect(url);
    await c.emitWithAck('boom');
    expect(seen.at(-1)).toMatchObject({
      namespace: '/',
      event: 'boom',
      sid: c.id,
      status: 500,
      message: 'Internal server error',
      limit: undefined,
    });
    await c.emitWithAck('hang');
    expect(seen.at(-1)).toMatchObject({ event: 'hang', status: 504, limit: 'time' });
    await c.emitWithAck('echo', 1);
    expect(await c.emitWithAck('echo', 2)).toMatchObject({ error: { status: 429 } });
    expect(seen.at(-1)).toMatchObject({ event: 'echo', status: 429, limit: 'rate' });
  });
});

describe('logs', () => {
  it('logs refusals and 429 at debug, and 504 at warn with the namespace and event', async () => {
    const logger = new RecordingLogger();
    const url = await start({
      logger,
      rateLimit: { points: 4, duration: 60_000 },
      handlerTimeout: 50,
    });
    const refused = client(`${url}/private`, { auth: { token: 'nope' } });
    await connectError(refused);
    expect(
      logger.find('debug', 'Connection to namespace /private refused: bad token'),
    ).toBeTruthy();

    const c = await connect(url);
    await c.emitWithAck('hang');
    expect(
      logger.find('warn', 'event "hang" in namespace / did not answer within 50 ms'),
    ).toBeTruthy();
    await c.emitWithAck('echo', 1);
    expect(await c.emitWithAck('echo', 2)).toMatchObject({ error: { status: 429 } });
    expect(
      logger.find('debug', `event "echo" of client ${c.id} in namespace / refused (429)`),
    ).toBeTruthy();

    const res = await fetch(`${url}/socket.io/?EIO=4&transport=polling`, {
      headers: { origin: 'https://evil.example' },
    });
    expect(res.status).toBe(403);
    expect(
      logger.find('debug', 'refused before any namespace: Forbidden: Origin not allowed'),
    ).toBeTruthy();
  });

  it('logs nothing above debug for a client that connects and leaves', async () => {
    const logger = new RecordingLogger();
    const url = await start({ logger });
    const c = await connect(url);
    const reason = disconnected(c);
    c.disconnect();
    await reason;
    expect(logger.lines.filter((l) => l.level === 'warn' || l.level === 'error')).toEqual([]);
  });
});
