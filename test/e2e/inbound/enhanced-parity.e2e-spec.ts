import { ValidationPipe, type INestApplication } from '@nestjs/common';
import { APP_GUARD, APP_INTERCEPTOR } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { SocketIOModule } from 'nest-socketio';
import type { Socket as ClientSocket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeClients, connect } from '../../support/app.js';
import { NEST_MAJOR } from '../../support/nest-version.js';
import {
  GlobalGuard,
  GlobalInterceptor,
  InstanceGuard,
  Journal,
  ParityGateway,
} from './enhanced-parity.fixtures.js';

// Handlers with guards, interceptors and pipes run a chain compiled once per handler
// (directDispatch: true, the default) or Nest's own chain (directDispatch: false). Every case
// runs through both, in two apps that differ only in that option, and the client must see the
// same thing: the ack or error reply, the events emitted, and the enhancers' calls in order.

interface Served {
  app: INestApplication;
  url: string;
  journal: Journal;
}

async function serve(directDispatch: boolean): Promise<Served> {
  const moduleRef = await Test.createTestingModule({
    imports: [SocketIOModule.forRoot({ directDispatch })],
    providers: [
      Journal,
      InstanceGuard,
      ParityGateway,
      { provide: APP_GUARD, useClass: GlobalGuard },
      { provide: APP_INTERCEPTOR, useClass: GlobalInterceptor },
    ],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  // A global ValidationPipe without a DTO: Nest 12 runs it on gateways, Nest 11 does not.
  app.useGlobalPipes(new ValidationPipe());
  await app.listen(0, '127.0.0.1');
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  return { app, url, journal: app.get(Journal) };
}

/** What one client sees for one event: the ack (or its absence), the events, the calls. */
interface Outcome {
  reply: unknown;
  events: unknown[][];
  calls: string[];
  contexts: unknown[];
}

async function outcome(
  served: Served,
  c: ClientSocket,
  event: string,
  data?: unknown,
): Promise<Outcome> {
  served.journal.calls = [];
  served.journal.contexts = [];
  const events: unknown[][] = [];
  const listener = (name: string, ...args: unknown[]) => events.push([name, ...args]);
  c.onAny(listener);
  let reply: unknown;
  if (event === 'reply-event') {
    const answered = new Promise((resolve) => c.once('answer', resolve));
    c.emit(event, data);
    await answered;
    reply = 'no ack';
  } else {
    reply = await c.timeout(3000).emitWithAck(event, data);
  }
  const calls = [...served.journal.calls];
  // A round trip after the answer, so that an event emitted after it is seen too.
  await c.timeout(3000).emitWithAck('echo', 'barrier');
  c.offAny(listener);
  return { reply, events, calls, contexts: served.journal.contexts };
}

const CASES: [string, string, unknown?][] = [
  ['a guard that returns false', 'deny'],
  ['a guard that throws', 'guard-throws'],
  ['an async guard that allows', 'async-guard', 1],
  ['an async guard that refuses', 'async-deny'],
  ['a guard that returns an Observable (its last value counts)', 'observable-guard'],
  ['a guard whose Observable ends with false', 'observable-deny'],
  ['an async pipe', 'async-pipe', 'shout'],
  ['a pipe that throws BadRequest', 'pipe-throws', 'x'],
  ['a param pipe instance on a property (valid)', 'parse-int', { n: '42' }],
  ['a param pipe instance on a property (invalid)', 'parse-int', { n: 'x' }],
  ['ValidationPipe with a DTO, valid', 'dto', { name: 'ada', age: 36 }],
  ['ValidationPipe with a DTO, invalid', 'dto', { name: 5, age: 'old' }],
  ['the global ValidationPipe without a DTO', 'echo', { any: ['thing'] }],
  ['the ArgumentMetadata pipes see', 'metadata', { a: 'first' }],
  ['an interceptor that maps the result', 'mapped'],
  ['an interceptor that replaces the result', 'replaced'],
  ['an interceptor that times out', 'times-out'],
  ['an interceptor that throws before next.handle()', 'interceptor-throws'],
  ['an async interceptor', 'async-interceptor'],
  ['guards, interceptors, pipes and the handler, in order', 'order', { o: 1 }],
  ['interceptors that return next.handle() itself, around one that does not', 'passed', 2],
  ['a pass-through interceptor over a handler that rejects', 'passed-rejects'],
  ['a pass-through interceptor over an Observable', 'passed-observable'],
  ['the ExecutionContext a guard sees', 'context', { seen: true }],
  ['a guard class that is also a provider (the enhancer instance runs)', 'instance'],
  ['a handler that returns a promise', 'promise'],
  ['a handler that returns an Observable (first value)', 'observable'],
  ['a handler that resolves to an Observable', 'promised-observable'],
  ['a handler that returns { event, data }', 'reply-event', 'hi'],
  ['an @Ack() handler that acks by hand', 'manual'],
  ['a handler that throws inside an interceptor', 'handler-throws'],
];

describe('compiled chains answer as Nest does', () => {
  let fast: Served;
  let nest: Served;
  let fastClient: ClientSocket;
  let nestClient: ClientSocket;

  beforeAll(async () => {
    [fast, nest] = await Promise.all([serve(true), serve(false)]);
    [fastClient, nestClient] = await Promise.all([connect(fast.url), connect(nest.url)]);
  });
  afterAll(async () => {
    closeClients();
    await Promise.all([fast?.app.close(), nest?.app.close()]);
  });

  it.each(CASES)('%s', async (_name, event, data) => {
    const nestSaw = await outcome(nest, nestClient, event, data);
    const fastSaw = await outcome(fast, fastClient, event, data);
    expect(fastSaw).toEqual(nestSaw);
  });

  it('runs the handler once per subscription to next.handle(), as Nest does', async () => {
    const nestSaw = await outcome(nest, nestClient, 'peeked');
    const fastSaw = await outcome(fast, fastClient, 'peeked');
    // Nest's handler value always arrives a promise later, so both runs start before the peek
    // sees one; a compiled chain gives a synchronous handler's value at once. Same calls, same
    // answer; only that interleaving differs.
    expect({ ...fastSaw, calls: fastSaw.calls.toSorted() }).toEqual({
      ...nestSaw,
      calls: nestSaw.calls.toSorted(),
    });
    expect(fastSaw.calls.filter((c) => c === 'handler')).toHaveLength(2);
  });

  it('gives the answers Nest gives (so parity is not parity in a shared mistake)', async () => {
    const seen = async (event: string, data?: unknown) =>
      (await outcome(fast, fastClient, event, data)).reply;
    expect(await seen('deny')).toEqual({ error: { status: 403, message: 'Forbidden resource' } });
    expect(await seen('guard-throws')).toEqual({ error: { status: 401, message: 'who are you' } });
    expect(await seen('async-pipe', 'shout')).toBe('SHOUT');
    expect(await seen('dto', { name: 'ada', age: 36 })).toEqual({
      isDto: true,
      name: 'ada',
      age: 36,
    });
    expect(await seen('dto', { name: 'ada', age: 'old' })).toEqual({
      error: { status: 400, message: ['age must be an integer number'] },
    });
    expect(await seen('mapped')).toEqual({ mapped: 'value' });
    expect(await seen('replaced')).toBe('replaced');
    expect(await seen('observable')).toBe('first');
    expect(await seen('times-out')).toEqual({
      error: { status: 500, message: 'Internal server error' },
    });
    const order = await outcome(fast, fastClient, 'order', { o: 1 });
    const globals = NEST_MAJOR >= 12;
    expect(order.calls).toEqual([
      ...(globals ? ['global-guard'] : []),
      'guard:order',
      'guard:order',
      ...(globals ? ['global-interceptor'] : []),
      'interceptor:before',
      'pipe:body:Object:-',
      'handler',
      'interceptor:after',
    ]);
    const context = await outcome(fast, fastClient, 'context', { seen: true });
    expect(context.contexts).toEqual([
      {
        type: 'ws',
        clientIsFirstArg: true,
        data: { seen: true },
        pattern: 'context',
        class: 'ParityGateway',
        handler: 'context',
        // Nest 11 appends the pattern twice.
        argsLength: NEST_MAJOR >= 12 ? 6 : 7,
        ackIsArg2: 'function',
      },
    ]);
  });

  it('answers a synchronous guarded, intercepted, piped handler at once (no promise chain)', async () => {
    expect(await ackAndQueued(fastClient)).toEqual(['ack', 'later']);
    // Nest's chain is asynchronous: the work the handler queued goes first.
    expect(await ackAndQueued(nestClient)).toEqual(['later', 'ack']);
  });
});

async function ackAndQueued(c: ClientSocket): Promise<string[]> {
  const order: string[] = [];
  const later = new Promise<void>((resolve) =>
    c.once('later', () => resolve(void order.push('later'))),
  );
  // A callback, not emitWithAck: its promise would record the ack a microtask late.
  const acked = new Promise<void>((resolve) =>
    c
      .timeout(3000)
      .emit('queued', (_err: unknown, value: string) => resolve(void order.push(value))),
  );
  await Promise.all([later, acked]);
  return order;
}
