// Flask-SocketIO's own test suite (test_socketio.py), ported to gateways driven by the test client.
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SocketService } from 'nest-socketio';
import {
  createTestClient,
  type SocketIOTestClient,
  type TestClientOptions,
} from 'nest-socketio/testing';
import { flaskApp, Recorder } from './flask-app.js';

let app: INestApplication;
let rec: Recorder;
const open: SocketIOTestClient[] = [];
const AUTH = { auth: { foo: 'bar' } };

async function client(options: TestClientOptions = AUTH): Promise<SocketIOTestClient> {
  const c = await createTestClient(app, options);
  open.push(c);
  return c;
}

beforeAll(async () => {
  const moduleRef = await Test.createTestingModule(flaskApp()).compile();
  app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  rec = app.get(Recorder);
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
  rec.disconnected = null;
  rec.requestEvent = undefined;
  rec.errorTesting = {};
});

afterAll(async () => {
  await app?.close();
});

describe('connect', () => {
  it('test_connect: two clients connect, get the greeting and disconnect separately', async () => {
    const c1 = await client();
    const c2 = await client();
    expect(c1.isConnected()).toBe(true);
    expect(c2.isConnected()).toBe(true);
    expect(c1.sid).not.toBe(c2.sid);
    const received = c1.getReceived();
    expect(received.map((r) => r.args)).toEqual([['connected'], ['{}'], ['{}']]);
    expect(received.every((r) => r.name === 'message' && r.namespace === '/')).toBe(true);
    await c1.disconnect();
    expect(c1.isConnected()).toBe(false);
    expect(c2.isConnected()).toBe(true);
    await c2.disconnect();
    expect(c2.isConnected()).toBe(false);
  });

  it('test_connect_query_string_and_headers', async () => {
    const c = await client({
      ...AUTH,
      query: { foo: 'bar' },
      headers: { Authorization: 'Bearer foobar' },
    });
    expect(c.getReceived().map((r) => r.args[0])).toEqual([
      'connected',
      '{"foo":"bar"}',
      '{"authorization":"Bearer foobar"}',
    ]);
  });

  it('test_connect_namespace', async () => {
    const c = await client({ namespace: '/test' });
    expect(c.isConnected('/test')).toBe(true);
    expect(c.isConnected('/')).toBe(false);
    expect(c.getReceived('/test').map((r) => r.args[0])).toEqual(['connected-test', '{}', '{}']);
    await c.disconnect('/test');
    expect(c.isConnected('/test')).toBe(false);
  });

  it('test_connect_namespace_query_string_and_headers', async () => {
    const c = await client({
      namespace: '/test',
      query: { foo: 'bar' },
      headers: { 'My-Custom-Header': 'Value' },
    });
    expect(c.getReceived('/test').map((r) => r.args[0])).toEqual([
      'connected-test',
      '{"foo":"bar"}',
      '{"my-custom-header":"Value"}',
    ]);
  });

  it('test_connect_rejected: connect rejects with the refusal message and data', async () => {
    const refused = createTestClient(app, { ...AUTH, query: { fail: '1' } });
    await expect(refused).rejects.toMatchObject({ message: 'failed!', data: { code: 42 } });
    const c = await client({ ...AUTH, query: { fail: '1' }, autoConnect: false });
    await expect(c.connect()).rejects.toThrow('failed!');
    expect(c.isConnected()).toBe(false);
    // A connect handler that returns false refuses with the default message.
    await expect(createTestClient(app, { auth: { foo: 'baz' } })).rejects.toThrow(
      'Connection rejected by server',
    );
  });

  it('test_disconnect: the disconnect handler has run when disconnect() resolves', async () => {
    const c = await client();
    await c.disconnect();
    expect(rec.disconnected).toBe('/');
  });

  it('test_disconnect_namespace', async () => {
    const c = await client({ namespace: '/test' });
    await c.disconnect('/test');
    expect(rec.disconnected).toBe('/test');
  });

  it('one client connects to several namespaces over one connection', async () => {
    const c = await client();
    await c.connect('/test');
    await c.connect('/ns');
    expect([c.isConnected('/'), c.isConnected('/test'), c.isConnected('/ns')]).toEqual([
      true,
      true,
      true,
    ]);
    expect(c.getReceived('/ns').map((r) => r.args[0])).toEqual(['connected-ns', '{}', '{}']);
    expect(c.getReceived('/test')[0].args).toEqual(['connected-test']);
    await c.disconnect('/test');
    expect(c.isConnected('/test')).toBe(false);
    expect(c.isConnected('/')).toBe(true);
    await c.send('still here');
    expect(c.getReceived('/').map((r) => r.args[0])).toEqual([
      'connected',
      '{}',
      '{}',
      'still here',
    ]);
  });
});

describe('send and emit', () => {
  it('test_send', async () => {
    const c = await client();
    c.getReceived();
    await c.send('echo this message back');
    expect(c.getReceived()).toEqual([
      { name: 'message', args: ['echo this message back'], namespace: '/' },
    ]);
  });

  it('test_send_json: a json message is broadcast to the namespace', async () => {
    const c1 = await client();
    const c2 = await client();
    c1.getReceived();
    c2.getReceived();
    await c1.emit('json', { a: 'b' });
    expect(c1.getReceived()).toEqual([{ name: 'message', args: [{ a: 'b' }], namespace: '/' }]);
    expect(await c2.waitFor('message')).toEqual([{ a: 'b' }]);
    expect(c2.getReceived()).toHaveLength(1);
  });

  it('test_send_namespace', async () => {
    const c = await client({ namespace: '/test' });
    c.getReceived('/test');
    await c.send('echo this message back', { namespace: '/test' });
    expect(c.getReceived('/test')).toEqual([
      { name: 'message', args: ['echo this message back'], namespace: '/test' },
    ]);
  });

  it('test_send_json_namespace', async () => {
    const c = await client({ namespace: '/test' });
    c.getReceived('/test');
    await c.emit('json', { a: 'b' }, { namespace: '/test' });
    expect(c.getReceived('/test')).toEqual([
      { name: 'message', args: [{ a: 'b' }], namespace: '/test' },
    ]);
  });

  it('test_emit', async () => {
    const c = await client();
    c.getReceived();
    await c.emit('my custom event', { a: 'b' });
    expect(c.getReceived()).toEqual([
      { name: 'my custom response', args: [{ a: 'b' }], namespace: '/' },
    ]);
  });

  it('test_emit_binary: buffers travel both ways', async () => {
    const c = await client();
    c.getReceived();
    await c.emit('my custom event', { a: Buffer.from([1, 2, 3]) });
    const [response] = c.getReceived();
    expect(response.name).toBe('my custom response');
    const { a } = response.args[0] as { a: Buffer };
    expect(Buffer.isBuffer(a)).toBe(true);
    expect([...a]).toEqual([1, 2, 3]);
  });

  it('test_emit_catch_all_event: the catch-all gets the event name and data', async () => {
    const c = await client();
    c.getReceived();
    await c.emit('random event', { foo: 'bar' });
    expect(c.getReceived()).toEqual([
      { name: 'my custom response', args: ['random event', { foo: 'bar' }], namespace: '/' },
    ]);
  });

  it('test_send_catch_all_namespace: a dynamic namespace handles events of any of its names', async () => {
    const c = await client({ namespace: '/dyn-abc' });
    await c.emit('wildcard', { a: 'b' });
    expect(c.getReceived()).toEqual([
      { name: 'my custom response', args: [{ a: 'b' }], namespace: '/dyn-abc' },
    ]);
  });

  it('test_request_event_data: the handler sees the event name and args', async () => {
    const c = await client();
    await c.emit('other custom event', 'foo');
    expect(rec.requestEvent).toEqual({ name: 'other custom event', args: ['foo'] });
    await c.emit('and another custom event', 'bar');
    expect(rec.requestEvent).toEqual({ name: 'and another custom event', args: ['bar'] });
  });

  it('test_emit_namespace', async () => {
    const c = await client({ namespace: '/test' });
    c.getReceived('/test');
    await c.emit('my custom namespace event', { a: 'b' }, { namespace: '/test' });
    expect(c.getReceived('/test')).toEqual([
      { name: 'my custom namespace response', args: [{ a: 'b' }], namespace: '/test' },
    ]);
  });

  it('test_on_event: handlers registered under other names work the same', async () => {
    const c = await client();
    await c.emit('yet another custom event', 'foo');
    expect(rec.requestEvent).toEqual({ name: 'yet another custom event', args: ['foo'] });
    const t = await client({ namespace: '/test' });
    t.getReceived();
    await t.emit('yet another custom namespace event', { a: 'b' });
    expect(t.getReceived()).toEqual([
      { name: 'my custom namespace response', args: [{ a: 'b' }], namespace: '/test' },
    ]);
  });

  it('test_encode_decode: what cannot be encoded fails at the client; what was sent is a copy', async () => {
    const c = await client();
    c.getReceived();
    const circular: Record<string, unknown> = { foo: 'bar' };
    circular.invalid = circular;
    await expect(c.emit('my custom event', circular, { ack: true })).rejects.toThrow();
    await expect(c.emit('my custom event', circular)).rejects.toThrow();
    const data = { foo: 'bar' };
    const ack = await c.emit('my custom event', data, { ack: true });
    data.foo = 'baz';
    expect(ack).toEqual({ foo: 'bar' });
    expect(c.getReceived()).toEqual([
      { name: 'my custom response', args: [{ foo: 'bar' }], namespace: '/' },
    ]);
    // The failed emits sent nothing, so a plain emit still settles at once.
    await c.send('after', { timeout: 1000 });
    expect(c.getReceived()).toEqual([{ name: 'message', args: ['after'], namespace: '/' }]);
  });

  it('test_encode_decode_2: a response that cannot be encoded becomes an error; replies are snapshots', async () => {
    const c = await client();
    c.getReceived();
    await c.emit('bad response');
    expect(c.getReceived()).toEqual([
      {
        name: 'exception',
        args: [{ error: { status: 500, message: 'Internal server error' } }],
        namespace: '/',
      },
    ]);
    expect(await c.emit('bad callback', undefined, { ack: true })).toEqual({
      error: { status: 500, message: 'Internal server error' },
    });
    const ack = await c.emit('changing response', undefined, { ack: true });
    expect(c.getReceived()).toEqual([
      { name: 'my custom response', args: [{ foo: 'bar' }], namespace: '/' },
    ]);
    expect(ack).toEqual({ foo: 'baz' });
  });
});

describe('broadcast and rooms', () => {
  it('test_broadcast: reaches the namespace, not other namespaces', async () => {
    const c1 = await client();
    const c2 = await client();
    const c3 = await client({ namespace: '/test' });
    c2.getReceived();
    c3.getReceived('/test');
    await c1.emit('my custom broadcast event', { a: 'b' });
    expect(await c2.waitFor('my custom response')).toEqual([{ a: 'b' }]);
    expect(c2.getReceived()).toEqual([
      { name: 'my custom response', args: [{ a: 'b' }], namespace: '/' },
    ]);
    await c3.emit('my custom namespace event', 'probe');
    expect(c3.getReceived('/test').map((r) => r.name)).toEqual(['my custom namespace response']);
  });

  it('test_broadcast_namespace', async () => {
    const c1 = await client({ namespace: '/test' });
    const c2 = await client({ namespace: '/test' });
    const c3 = await client();
    c2.getReceived('/test');
    c3.getReceived();
    await c1.emit('my custom broadcast namespace event', { a: 'b' }, { namespace: '/test' });
    expect(await c2.waitFor('my custom namespace response')).toEqual([{ a: 'b' }]);
    expect(c2.getReceived('/test')).toHaveLength(1);
    await c3.send('probe');
    expect(c3.getReceived()).toEqual([{ name: 'message', args: ['probe'], namespace: '/' }]);
  });

  it('test_room: join, emit to the room, leave, close the room', async () => {
    const c1 = await client();
    const c2 = await client();
    const c3 = await client({ namespace: '/test' });
    c1.getReceived();
    c2.getReceived();
    c3.getReceived('/test');
    await c1.emit('join room', { room: 'one' });
    await c2.emit('join room', { room: 'one' });
    await c3.emit('join room', { room: 'one' }, { namespace: '/test' });

    await c1.emit('my room event', { a: 'b', room: 'one' });
    const expected = [{ name: 'my room response', args: [{ a: 'b' }], namespace: '/' }];
    expect(c1.getReceived()).toEqual(expected);
    await c2.waitFor('my room response');
    expect(c2.getReceived()).toEqual(expected);
    expect(c3.getReceived('/test')).toEqual([]);

    await c1.emit('leave room', { room: 'one' });
    await c1.emit('my room event', { a: 'b', room: 'one' });
    expect(c1.getReceived()).toEqual([]);
    await c2.waitFor('my room response');
    expect(c2.getReceived()).toEqual(expected);

    await c2.disconnect();
    const sockets = app.get(SocketService);
    sockets.emit('my room response', { a: 'b' }, { to: 'one' });
    await c1.send('probe');
    expect(c1.getReceived().map((r) => r.name)).toEqual(['message']);

    await c3.emit('my room namespace event', { room: 'one' }, { namespace: '/test' });
    expect(c3.getReceived('/test')).toEqual([
      { name: 'message', args: ['room message'], namespace: '/test' },
    ]);
    await sockets.closeRoom('one', '/test');
    await c3.emit('my room namespace event', { room: 'one' }, { namespace: '/test' });
    expect(c3.getReceived('/test')).toEqual([]);
  });
});

describe('acks and errors', () => {
  it('test_ack: the handler return value is the ack', async () => {
    const c1 = await client();
    const c2 = await client();
    expect(await c1.send('echo this message back', { ack: true })).toBe('echo this message back');
    await expect(c1.send('test noackargs', { ack: true, timeout: 300 })).rejects.toThrow(
      'no ack for "message" within 300 ms',
    );
    expect(await c2.emit('json', { a: 'b' }, { ack: true })).toEqual({ a: 'b' });
    expect(await c2.emit('my custom event', { a: 'b' }, { ack: true })).toEqual({ a: 'b' });
  });

  it('test_noack: without ack, emit and send resolve with undefined', async () => {
    const c = await client();
    expect(await c.send('test noackargs')).toBeUndefined();
    expect(await c.emit('json', { noackargs: true })).toBeUndefined();
    expect(await c.emit('my custom event', { noackargs: true })).toBeUndefined();
    expect(await c.emit('my custom event', { a: 'b' })).toBeUndefined();
  });

  it('test_error_handling: the gateway error handler runs', async () => {
    const c = await client();
    await c.emit('error testing', '');
    expect(rec.errorTesting['/']).toBe(true);
    // Without an ack, its return value arrives as the exception event.
    expect(c.getReceived().at(-1)).toEqual({ name: 'exception', args: ['error'], namespace: '/' });
  });

  it('test_error_handling_namespace', async () => {
    const c = await client({ namespace: '/test' });
    await c.emit('error testing', '', { namespace: '/test' });
    expect(rec.errorTesting['/test']).toBe(true);
    expect(rec.errorTesting['/']).toBeUndefined();
  });

  it('test_error_handling_default: the defaultErrorHandler answers namespaces without one', async () => {
    const c = await client({ namespace: '/unused_namespace' });
    await c.emit('error testing', '');
    expect(c.getReceived()).toEqual([
      { name: 'exception', args: ['error/default'], namespace: '/unused_namespace' },
    ]);
  });

  it('test_error_handling_ack: the error handler return value is the ack', async () => {
    const c1 = await client();
    const c2 = await client({ namespace: '/test' });
    const c3 = await client({ namespace: '/unused_namespace' });
    expect(await c1.emit('error testing', '', { ack: true })).toBe('error');
    expect(await c2.emit('error testing', '', { ack: true })).toBe('error/test');
    expect(await c3.emit('error testing', '', { ack: true })).toBe('error/default');
  });
});

describe('class-based namespace', () => {
  it('test_connect_class_based', async () => {
    const c = await client({ namespace: '/ns' });
    expect(c.getReceived('/ns').map((r) => r.args[0])).toEqual(['connected-ns', '{}', '{}']);
    await c.disconnect('/ns');
  });

  it('test_connect_class_based_query_string_and_headers', async () => {
    const c = await client({
      namespace: '/ns',
      query: { foo: 'bar' },
      headers: { Authorization: 'Basic foobar' },
    });
    expect(c.getReceived('/ns').map((r) => r.args[0])).toEqual([
      'connected-ns',
      '{"foo":"bar"}',
      '{"authorization":"Basic foobar"}',
    ]);
  });

  it('test_disconnect_class_based', async () => {
    const c = await client({ namespace: '/ns' });
    await c.disconnect('/ns');
    expect(rec.disconnected).toBe('/ns');
  });

  it('test_send_class_based', async () => {
    const c = await client({ namespace: '/ns' });
    c.getReceived();
    expect(await c.send('echo this message back', { ack: true })).toBe('echo this message back');
    expect(c.getReceived()).toEqual([
      { name: 'message', args: ['echo this message back'], namespace: '/ns' },
    ]);
  });

  it('test_send_json_class_based', async () => {
    const c = await client({ namespace: '/ns' });
    c.getReceived();
    await c.emit('json', { a: 'b' });
    expect(c.getReceived()).toEqual([{ name: 'message', args: [{ a: 'b' }], namespace: '/ns' }]);
  });

  it('test_server_disconnected: a server-side disconnect is seen, and emits then fail', async () => {
    const c1 = await client({ namespace: '/ns' });
    const c2 = await client({ namespace: '/ns' });
    await c1.emit('exit', {});
    expect(c1.isConnected('/ns')).toBe(false);
    expect(c2.isConnected('/ns')).toBe(true);
    await expect(c1.emit('hello', {})).rejects.toThrow('not connected');
    await c2.emit('exit', {});
    expect(c2.isConnected('/ns')).toBe(false);
    await expect(c2.emit('hello', {})).rejects.toThrow('not connected');
    expect(rec.disconnected).toBe('/ns');
  });

  it('test_emit_class_based', async () => {
    const c = await client({ namespace: '/ns' });
    c.getReceived();
    await c.emit('my_custom_event', { a: 'b' });
    expect(c.getReceived()).toEqual([
      { name: 'my custom response', args: [{ a: 'b' }], namespace: '/ns' },
    ]);
  });

  it('test_request_event_data_class_based', async () => {
    const c = await client({ namespace: '/ns' });
    await c.emit('other_custom_event', 'foo');
    expect(rec.requestEvent).toEqual({ name: 'other_custom_event', args: ['foo'] });
  });
});

describe('background tasks and calls', () => {
  it('test_background_task: an emit from a task started at connect arrives', async () => {
    const c = await client({ namespace: '/bgtest' });
    expect(c.isConnected('/bgtest')).toBe(true);
    expect(await c.waitFor('bgtest')).toEqual([]);
    expect(c.getReceived().map((r) => r.name)).toEqual(['bgtest']);
  });

  it('onCall answers the server, whose call() resolves with the reply', async () => {
    const c = await client({ namespace: '/call' });
    const asked: unknown[] = [];
    c.onCall('question', async (q) => {
      asked.push(q);
      return `yes, ${q}`;
    });
    expect(await c.emit('ask', 'ready?', { ack: true })).toEqual({ answer: 'yes, ready?' });
    expect(asked).toEqual(['ready?']);
    expect(c.getReceived()).toEqual([{ name: 'question', args: ['ready?'], namespace: '/call' }]);
  });

  it('a call the client does not answer times out on the server', async () => {
    const c = await client({ namespace: '/call' });
    expect(await c.emit('ask', 'hello?', { ack: true })).toEqual({
      error: { status: 500, message: 'Internal server error' },
    });
  });
});
