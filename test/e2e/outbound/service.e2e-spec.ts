import type { INestApplication } from '@nestjs/common';
import {
  MessageBody,
  SubscribeMessage,
  WebSocketGateway,
  type OnGatewayDisconnect,
} from '@nestjs/websockets';
import type { Socket } from 'socket.io';
import type { Socket as ClientSocket } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SocketIOModule, SocketService, TimeoutError, UnknownClientError } from 'nest-socketio';
import { closeClients, connect, next } from '../../support/app.js';
import { startApp } from '../../support/app.js';
import { disconnected, nextArgs, recordEvents } from '../../support/client-events.js';

const disconnects: string[] = [];

@WebSocketGateway()
class MainGateway implements OnGatewayDisconnect {
  constructor(private readonly sockets: SocketService) {}

  handleDisconnect(client: Socket) {
    disconnects.push(client.id);
  }

  @SubscribeMessage('others')
  others(@MessageBody() data: unknown) {
    this.sockets.emit('note', data, { includeSelf: false });
    return 'sent';
  }

  @SubscribeMessage('everyone')
  everyone(@MessageBody() data: unknown) {
    // No namespace given: the handler's own.
    this.sockets.emit('note', data);
    return 'sent';
  }

  @SubscribeMessage('join')
  async join(@MessageBody() room: string) {
    await this.sockets.joinRoom(room);
    return this.sockets.rooms();
  }

  @SubscribeMessage('leave')
  async leave(@MessageBody() room: string) {
    await this.sockets.leaveRoom(room);
    return this.sockets.rooms();
  }

  @SubscribeMessage('bye')
  async bye() {
    await this.sockets.disconnect();
  }
}

@WebSocketGateway({ namespace: '/admin' })
class AdminGateway {
  constructor(private readonly sockets: SocketService) {}

  @SubscribeMessage('everyone')
  everyone(@MessageBody() data: unknown) {
    this.sockets.emit('note', data);
    return 'sent';
  }
}

describe('SocketService', () => {
  let app: INestApplication;
  let url: string;
  let sockets: SocketService;

  beforeAll(async () => {
    ({ app, url } = await startApp({
      imports: [SocketIOModule.forRoot()],
      providers: [MainGateway, AdminGateway],
    }));
    sockets = app.get(SocketService);
  });
  afterAll(() => app.close());
  afterEach(() => closeClients());

  /** Emits a marker to every client of both namespaces and waits for it on each given client. */
  async function fence(...clients: ClientSocket[]) {
    const arrived = clients.map((c) => next(c, 'fence'));
    sockets.emit('fence', 1);
    sockets.emit('fence', 1, { namespace: '/admin' });
    await Promise.all(arrived);
  }

  it('emits to every client of the namespace, and only that namespace', async () => {
    const [a, b] = await Promise.all([connect(url), connect(url)]);
    const admin = await connect(`${url}/admin`);
    const adminSeen = recordEvents(admin);
    const gotA = next(a, 'news');
    const gotB = next(b, 'news');
    sockets.emit('news', { n: 1 });
    expect(await gotA).toEqual({ n: 1 });
    expect(await gotB).toEqual({ n: 1 });
    await fence(admin);
    expect(adminSeen).toEqual(['fence']);
  });

  it('emits in another namespace with { namespace }', async () => {
    const root = await connect(url);
    const admin = await connect(`${url}/admin`);
    const rootSeen = recordEvents(root);
    const got = next(admin, 'news');
    sockets.emit('news', 'for admins', { namespace: '/admin' });
    expect(await got).toBe('for admins');
    await fence(root);
    expect(rootSeen).toEqual(['fence']);
  });

  it('emits to one sid, a room, and a list of them', async () => {
    const [a, b, c] = await Promise.all([connect(url), connect(url), connect(url)]);
    const seen = [a, b, c].map(recordEvents);
    sockets.emit('one', 1, { to: b.id! });
    await sockets.joinRoom('red', { sid: c.id! });
    sockets.emit('room', 2, { to: 'red' });
    sockets.emit('list', 3, { to: [a.id!, 'red'] });
    await fence(a, b, c);
    expect(seen[0]).toEqual(['list', 'fence']);
    expect(seen[1]).toEqual(['one', 'fence']);
    expect(seen[2]).toEqual(['room', 'list', 'fence']);
  });

  it('an empty list in `to` reaches nobody (not everyone)', async () => {
    const [a, b] = await Promise.all([connect(url), connect(url)]);
    const seen = [a, b].map(recordEvents);
    sockets.emit('nobody', 1, { to: [] });
    await fence(a, b);
    expect(seen).toEqual([['fence'], ['fence']]);
  });

  it('skips the sids and rooms in skipSid', async () => {
    const [a, b, c] = await Promise.all([connect(url), connect(url), connect(url)]);
    const seen = [a, b, c].map(recordEvents);
    sockets.emit('skip-one', 1, { skipSid: a.id! });
    sockets.emit('skip-two', 2, { skipSid: [a.id!, b.id!] });
    await fence(a, b, c);
    expect(seen[0]).toEqual(['fence']);
    expect(seen[1]).toEqual(['skip-one', 'fence']);
    expect(seen[2]).toEqual(['skip-one', 'skip-two', 'fence']);
  });

  it('includeSelf: false skips the current client inside a handler', async () => {
    const [a, b] = await Promise.all([connect(url), connect(url)]);
    const seenA = recordEvents(a);
    const gotB = next(b, 'note');
    expect(await a.emitWithAck('others', 'hi')).toBe('sent');
    expect(await gotB).toBe('hi');
    await fence(a);
    expect(seenA).toEqual(['fence']);
  });

  it('includeSelf: false outside a handler is an error that says what to use', () => {
    expect(() => sockets.emit('x', 1, { includeSelf: false })).toThrow(
      /includeSelf: false needs a current client; use skipSid/,
    );
  });

  it("emits in the current handler's namespace when none is given", async () => {
    const root = await connect(url);
    const admin = await connect(`${url}/admin`);
    const rootSeen = recordEvents(root);
    const got = next(admin, 'note');
    expect(await admin.emitWithAck('everyone', 'admins only')).toBe('sent');
    expect(await got).toBe('admins only');
    await fence(root);
    expect(rootSeen).toEqual(['fence']);
  });

  it('emit without data sends no argument; volatile and compress still deliver', async () => {
    const a = await connect(url);
    const bare = nextArgs(a, 'bare');
    sockets.emit('bare');
    expect(await bare).toEqual([]);
    const volatile = next(a, 'volatile');
    sockets.emit('volatile', 'v', { to: a.id!, volatile: true });
    expect(await volatile).toBe('v');
    const plain = next(a, 'plain');
    sockets.emit('plain', 'c', { to: a.id!, compress: false });
    expect(await plain).toBe('c');
  });

  it('volatile packets are dropped while the transport is busy; plain ones never are', async () => {
    const a = await connect(url);
    let volatile = 0;
    let plain = 0;
    a.on('v', () => volatile++);
    a.on('p', () => plain++);
    const done = next(a, 'done');
    for (let i = 0; i < 50; i++) sockets.emit('v', i, { to: a.id!, volatile: true });
    for (let i = 0; i < 50; i++) sockets.emit('p', i, { to: a.id! });
    sockets.emit('done', 1, { to: a.id! });
    await done;
    expect(plain).toBe(50);
    expect(volatile).toBeGreaterThan(0);
    expect(volatile).toBeLessThan(50);
  });

  it('send emits a "message" event', async () => {
    const a = await connect(url);
    const got = next(a, 'message');
    sockets.send('hello', { to: a.id! });
    expect(await got).toBe('hello');
  });

  it('call resolves with the client ack', async () => {
    const a = await connect(url);
    a.on('question', (q: string, ack: (answer: string) => void) => ack(`answer to ${q}`));
    await expect(sockets.call('question', 'life', { to: a.id!, timeout: 2000 })).resolves.toBe(
      'answer to life',
    );
  });

  it('call rejects with a TimeoutError when the client does not ack in time', async () => {
    const a = await connect(url);
    a.on('question', () => undefined);
    const started = Date.now();
    const err = await sockets.call('question', 'life', { to: a.id!, timeout: 150 }).then(
      () => new Error('resolved'),
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(TimeoutError);
    expect(err.name).toBe('TimeoutError');
    expect(err.message).toContain('within 150 ms');
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('call rejects at once with UnknownClientError when the client disconnects first', async () => {
    const a = await connect(url);
    const sid = a.id!;
    a.on('question', () => a.disconnect());
    const started = Date.now();
    const err = await sockets.call('question', 1, { to: sid, timeout: 10_000 }).then(
      () => new Error('resolved'),
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(UnknownClientError);
    expect(err.message).toBe(`No client with sid "${sid}" is connected to namespace "/"`);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('call to an unknown sid rejects with UnknownClientError', async () => {
    const err = await sockets.call('question', 1, { to: 'nobody', timeout: 100 }).then(
      () => new Error('resolved'),
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(UnknownClientError);
    expect(err.message).toContain('"nobody"');
  });

  it('joinRoom, leaveRoom and rooms from outside a handler, by sid', async () => {
    const a = await connect(url);
    await sockets.joinRoom(['r1', 'r2'], { sid: a.id! });
    expect((await sockets.rooms({ sid: a.id! })).toSorted()).toEqual(
      [a.id!, 'r1', 'r2'].toSorted(),
    );
    await sockets.leaveRoom('r1', { sid: a.id! });
    expect((await sockets.rooms({ sid: a.id! })).toSorted()).toEqual([a.id!, 'r2'].toSorted());
    const got = next(a, 'in-r2');
    sockets.emit('in-r2', 'yes', { to: 'r2' });
    expect(await got).toBe('yes');
  });

  it('joinRoom, leaveRoom and rooms default to the current client inside a handler', async () => {
    const a = await connect(url);
    expect(((await a.emitWithAck('join', 'blue')) as string[]).toSorted()).toEqual(
      [a.id!, 'blue'].toSorted(),
    );
    // The join is in effect as soon as it resolves.
    const got = next(a, 'blue-news');
    sockets.emit('blue-news', 1, { to: 'blue' });
    expect(await got).toBe(1);
    expect(await a.emitWithAck('leave', 'blue')).toEqual([a.id!]);
  });

  it('room helpers outside a handler without a sid say what is missing', async () => {
    await expect(sockets.joinRoom('x')).rejects.toThrow(/No sid given and no current client/);
    await expect(sockets.rooms()).rejects.toThrow(/pass \{ sid \}/);
    await expect(sockets.joinRoom('x', { sid: 'ghost' })).rejects.toBeInstanceOf(
      UnknownClientError,
    );
  });

  it('closeRoom empties a room', async () => {
    const [a, b] = await Promise.all([connect(url), connect(url)]);
    await sockets.joinRoom('game', { sid: a.id! });
    await sockets.joinRoom('game', { sid: b.id! });
    await sockets.closeRoom('game');
    expect(await sockets.rooms({ sid: a.id! })).toEqual([a.id!]);
    expect(await sockets.rooms({ sid: b.id! })).toEqual([b.id!]);
    const seen = [a, b].map(recordEvents);
    sockets.emit('game-over', 1, { to: 'game' });
    await fence(a, b);
    expect(seen).toEqual([['fence'], ['fence']]);
  });

  it('rooms are isolated between namespaces', async () => {
    const root = await connect(url);
    const admin = await connect(`${url}/admin`);
    await sockets.joinRoom('shared', { sid: root.id! });
    await sockets.joinRoom('shared', { sid: admin.id!, namespace: '/admin' });
    const adminSeen = recordEvents(admin);
    const got = next(root, 'shared-news');
    sockets.emit('shared-news', 'root', { to: 'shared' });
    expect(await got).toBe('root');
    await fence(admin);
    expect(adminSeen).toEqual(['fence']);
    // The root client is not in the admin namespace's room, and vice versa.
    await expect(sockets.rooms({ sid: root.id!, namespace: '/admin' })).rejects.toBeInstanceOf(
      UnknownClientError,
    );
  });

  it('disconnect runs handleDisconnect; silent disconnect does not', async () => {
    const [loud, quiet] = await Promise.all([connect(url), connect(url)]);
    const quietSid = quiet.id!;
    const loudSid = loud.id!;
    const quietGone = disconnected(quiet);
    const loudGone = disconnected(loud);
    await sockets.disconnect({ sid: quietSid, silent: true });
    await sockets.disconnect({ sid: loudSid });
    expect(await quietGone).toBe('io server disconnect');
    expect(await loudGone).toBe('io server disconnect');
    expect(disconnects).toContain(loudSid);
    expect(disconnects).not.toContain(quietSid);
  });

  it('disconnect inside a handler disconnects the current client', async () => {
    const a = await connect(url);
    const gone = disconnected(a);
    a.emit('bye');
    expect(await gone).toBe('io server disconnect');
  });

  it('sleep waits, and returns early when its signal aborts', async () => {
    let started = Date.now();
    await sockets.sleep(60);
    expect(Date.now() - started).toBeGreaterThanOrEqual(55);
    const controller = new AbortController();
    started = Date.now();
    const sleeping = sockets.sleep(10_000, controller.signal);
    controller.abort();
    await sleeping;
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('a background task runs outside any client context and can be cancelled', async () => {
    const a = await connect(url);
    const ticks: number[] = [];
    a.on('tick', (n: number) => ticks.push(n));
    const third = new Promise<void>((resolve) => a.on('tick', (n: number) => n === 3 && resolve()));
    let sawSignal: AbortSignal | undefined;
    const task = sockets.startBackgroundTask(async (signal) => {
      sawSignal = signal;
      for (let n = 1; !signal.aborted; n++) {
        sockets.emit('tick', n);
        await sockets.sleep(5, signal);
      }
      return 'ended';
    });
    expect(task.running).toBe(true);
    await third;
    await task.cancel();
    expect(task.running).toBe(false);
    expect(sawSignal?.aborted).toBe(true);
    expect(ticks.slice(0, 3)).toEqual([1, 2, 3]);
  });
});
