import { Injectable, type INestApplication } from '@nestjs/common';
import {
  MessageBody,
  SubscribeMessage,
  WebSocketGateway,
  type OnGatewayConnection,
  type OnGatewayDisconnect,
} from '@nestjs/websockets';
import type { Socket } from 'socket.io';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  EventName,
  Sid,
  SocketContext,
  SocketIOModule,
  SocketService,
  SocketSession,
} from 'nest-socketio';
import { client, closeClients, connect, next, startApp } from '../../support/app.js';
import { connectError, deferred, disconnected, recordEvents } from '../../support/client-events.js';

@Injectable()
class Third {
  constructor(private readonly ctx: SocketContext) {}
  async where() {
    await new Promise((r) => setImmediate(r));
    return { sid: this.ctx.sid, namespace: this.ctx.namespace, eventName: this.ctx.event?.name };
  }
}

@Injectable()
class Second {
  constructor(private readonly third: Third) {}
  async where() {
    await new Promise((r) => setTimeout(r, 2));
    return this.third.where();
  }
}

@Injectable()
class First {
  constructor(private readonly second: Second) {}
  where() {
    return Promise.resolve().then(() => this.second.where());
  }
}

const connected = new Map<string, { sid: string; event: unknown; namespace: string }>();
const disconnectedSids = new Map<string, { sid: string; rooms: string[] }>();
const disconnectSeen = new Map<string, ReturnType<typeof deferred<void>>>();

@WebSocketGateway()
class ContextGateway implements OnGatewayConnection, OnGatewayDisconnect {
  constructor(
    private readonly ctx: SocketContext,
    private readonly first: First,
  ) {}

  handleConnection(socket: Socket) {
    connected.set(socket.id, {
      sid: this.ctx.sid,
      event: this.ctx.event,
      namespace: this.ctx.namespace,
    });
    this.ctx.emit('welcome', { sid: this.ctx.sid });
  }

  handleDisconnect(socket: Socket) {
    const sid = this.ctx.sid;
    // The rooms the client was in, as Flask-SocketIO's rooms() in a disconnect handler.
    void this.ctx.rooms().then((rooms) => {
      disconnectedSids.set(socket.id, { sid, rooms: rooms.toSorted() });
      disconnectSeen.get(socket.id)?.resolve();
    });
  }

  @SubscribeMessage('about')
  about(@MessageBody() _data: unknown) {
    const { ctx } = this;
    return {
      active: ctx.active,
      sid: ctx.sid,
      namespace: ctx.namespace,
      socketIsClient: ctx.socket.id === ctx.sid,
      // Not `event`: Nest emits a returned object with an `event` key instead of acking it.
      current: ctx.event,
      auth: ctx.handshake.auth,
      query: ctx.handshake.query.team,
      header: ctx.handshake.headers['x-team'],
    };
  }

  @SubscribeMessage('deep')
  deep() {
    return this.first.where();
  }

  @SubscribeMessage('decorators')
  decorators(@Sid() sid: string, @EventName() name: string, @SocketSession() session: any) {
    session.count = (session.count ?? 0) + 1;
    return { sid, name, count: session.count, same: session === this.ctx.session };
  }

  @SubscribeMessage('to-me')
  toMe(@MessageBody() data: unknown) {
    this.ctx.emit('private', data);
    this.ctx.send(`message for ${this.ctx.sid}`);
    return 'ok';
  }

  @SubscribeMessage('bare')
  bare() {
    this.ctx.emit('bare');
    this.ctx.emit('bare', undefined, { broadcast: true });
    return 'ok';
  }

  @SubscribeMessage('to-all')
  toAll(@MessageBody() data: unknown) {
    this.ctx.emit('public', data, { broadcast: true });
    return 'ok';
  }

  @SubscribeMessage('to-others')
  toOthers(@MessageBody() data: unknown) {
    this.ctx.emit('public', data, { broadcast: true, includeSelf: false });
    return 'ok';
  }

  @SubscribeMessage('ask-me')
  askMe(@MessageBody() question: string) {
    return this.ctx.call('question', question, { timeout: 2000 });
  }

  @SubscribeMessage('rooms')
  async rooms(@MessageBody() room: string) {
    await this.ctx.joinRoom(room);
    const joined = await this.ctx.rooms();
    await this.ctx.leaveRoom(room);
    return { joined, left: await this.ctx.rooms() };
  }

  @SubscribeMessage('hang-up')
  hangUp() {
    return this.ctx.disconnect();
  }

  @SubscribeMessage('*')
  any(@EventName() name: string, @MessageBody() data: unknown) {
    return { caughtBy: '*', name, data, args: this.ctx.event?.args };
  }
}

@WebSocketGateway({ namespace: '/chat' })
class ChatGateway {
  constructor(private readonly first: First) {}
  @SubscribeMessage('deep')
  deep() {
    return this.first.where();
  }
}

/** A second gateway on '/': the catch-all of ContextGateway must leave its events alone. */
@WebSocketGateway()
class SiblingGateway {
  @SubscribeMessage('sibling')
  sibling(@MessageBody() data: unknown) {
    return { caughtBy: 'sibling', data };
  }
}

/** Broadcasts from handleConnection, as a Flask-SocketIO connect handler would make them. */
@WebSocketGateway({ namespace: '/lobby' })
class LobbyGateway implements OnGatewayConnection {
  constructor(
    private readonly sockets: SocketService,
    private readonly ctx: SocketContext,
  ) {}

  async handleConnection() {
    const sid = this.ctx.sid;
    await this.ctx.joinRoom('lobby');
    this.sockets.emit('arrived', sid);
    this.sockets.emit('room-news', sid, { to: 'lobby' });
    this.sockets.emit('others', sid, { includeSelf: false });
    this.sockets.emit('not-lobby', sid, { skipSid: 'lobby' });
    this.sockets.emit('elsewhere', sid, { to: 'some-other-room' });
    this.sockets.emit('root', sid, { namespace: '/' });
    if (this.ctx.handshake.auth.refuse) return false;
    return undefined;
  }
}

describe('SocketContext and handler parameters', () => {
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    ({ app, url } = await startApp({
      imports: [SocketIOModule.forRoot()],
      providers: [ContextGateway, ChatGateway, LobbyGateway, First, Second, Third],
    }));
  });
  afterAll(() => app.close());
  afterEach(() => closeClients());

  it('knows the client, namespace, event and handshake inside a handler', async () => {
    const c = await connect(url, {
      auth: { token: 't1' },
      query: { team: 'blue' },
      extraHeaders: { 'x-team': 'red' },
      transports: ['polling'],
    });
    expect(await c.emitWithAck('about', { x: 1 })).toEqual({
      active: true,
      sid: c.id,
      namespace: '/',
      socketIsClient: true,
      current: { name: 'about', args: [{ x: 1 }] },
      auth: { token: 't1' },
      query: 'blue',
      header: 'red',
    });
  });

  it('a service three calls deep sees the same client, in every namespace', async () => {
    const [a, b] = await Promise.all([connect(url), connect(url)]);
    const chat = await connect(`${url}/chat`);
    const [ra, rb, rc] = await Promise.all([
      a.emitWithAck('deep'),
      b.emitWithAck('deep'),
      chat.emitWithAck('deep'),
    ]);
    expect(ra).toEqual({ sid: a.id, namespace: '/', eventName: 'deep' });
    expect(rb).toEqual({ sid: b.id, namespace: '/', eventName: 'deep' });
    expect(rc).toEqual({ sid: chat.id, namespace: '/chat', eventName: 'deep' });
  });

  it('works in handleConnection (no event) and emits to the connecting client', async () => {
    const socket = client(url);
    const welcome = next<{ sid: string }>(socket, 'welcome');
    const w = await welcome;
    expect(w.sid).toBe(socket.id);
    expect(connected.get(socket.id!)).toEqual({ sid: socket.id, event: undefined, namespace: '/' });
  });

  it('broadcasts from handleConnection reach the connecting client too, as in Flask', async () => {
    const first = client(`${url}/lobby`);
    const firstSeen = recordEvents(first);
    await next(first, 'connect');
    // Buffered by the client until the connection was accepted, then delivered in order.
    expect(firstSeen).toEqual(['arrived', 'room-news']);
    const second = client(`${url}/lobby`);
    const secondSeen = recordEvents(second);
    const othersArrived = next(first, 'others');
    await next(second, 'connect');
    expect(await othersArrived).toBe(second.id);
    expect(secondSeen).toEqual(['arrived', 'room-news']);
    expect(firstSeen).toEqual(['arrived', 'room-news', 'arrived', 'room-news', 'others']);
  });

  it('a client refused after such a broadcast never receives it, even when it retries', async () => {
    const c = client(`${url}/lobby`, { auth: { refuse: true } });
    const seen = recordEvents(c);
    const refused = await connectError(c);
    expect(refused.message).toBe('Connection rejected by server');
    c.auth = {};
    c.connect();
    await next(c, 'connect');
    expect(seen).toEqual(['arrived', 'room-news']);
  });

  it('works in handleDisconnect, where rooms() still lists the rooms the client was in', async () => {
    const c = await connect(url);
    const sid = c.id!;
    await app.get(SocketService).joinRoom('lobby', { sid });
    const seen = deferred();
    disconnectSeen.set(sid, seen);
    c.disconnect();
    await seen.promise;
    expect(disconnectedSids.get(sid)).toEqual({ sid, rooms: [sid, 'lobby'].toSorted() });
  });

  it('@Sid(), @EventName() and @SocketSession(): the session lasts for the connection', async () => {
    const c = await connect(url);
    expect(await c.emitWithAck('decorators')).toEqual({
      sid: c.id,
      name: 'decorators',
      count: 1,
      same: true,
    });
    expect(await c.emitWithAck('decorators')).toMatchObject({ count: 2 });
    const other = await connect(url);
    expect(await other.emitWithAck('decorators')).toMatchObject({ count: 1, sid: other.id });
  });

  it('emit and send reach only the current client', async () => {
    const [a, b] = await Promise.all([connect(url), connect(url)]);
    const seenB = recordEvents(b);
    const priv = next(a, 'private');
    const msg = next(a, 'message');
    expect(await a.emitWithAck('to-me', 'secret')).toBe('ok');
    expect(await priv).toBe('secret');
    expect(await msg).toBe(`message for ${a.id}`);
    // A marker after the fact: b would have received 'private' before it.
    const fence = next(b, 'public');
    expect(await a.emitWithAck('to-all', 'marker')).toBe('ok');
    await fence;
    expect(seenB).toEqual(['public']);
  });

  it('emit without data sends no argument, as SocketService.emit does', async () => {
    const c = await connect(url);
    const received: unknown[][] = [];
    const both = new Promise<void>((resolve) =>
      c.on('bare', (...args: unknown[]) => received.push(args) === 2 && resolve()),
    );
    expect(await c.emitWithAck('bare')).toBe('ok');
    await both;
    expect(received).toEqual([[], []]);
  });

  it('emit with broadcast reaches the namespace, includeSelf: false skips the sender', async () => {
    const [a, b] = await Promise.all([connect(url), connect(url)]);
    const chat = await connect(`${url}/chat`);
    const chatSeen = recordEvents(chat);
    const toA = next(a, 'public');
    const toB = next(b, 'public');
    expect(await a.emitWithAck('to-all', 'all')).toBe('ok');
    expect([await toA, await toB]).toEqual(['all', 'all']);
    const seenA = recordEvents(a);
    const toB2 = next(b, 'public');
    expect(await a.emitWithAck('to-others', 'others')).toBe('ok');
    expect(await toB2).toBe('others');
    const marker = next(a, 'public');
    await b.emitWithAck('to-all', 'marker');
    await marker;
    expect(seenA).toEqual(['public']);
    expect(chatSeen).toEqual([]);
  });

  it('call asks the current client and resolves with its ack', async () => {
    const c = await connect(url);
    c.on('question', (q: string, ack: (a: string) => void) => ack(q.toUpperCase()));
    expect(await c.emitWithAck('ask-me', 'why')).toBe('WHY');
  });

  it('joinRoom, leaveRoom and rooms work on the current client', async () => {
    const c = await connect(url);
    const result = (await c.emitWithAck('rooms', 'lobby')) as { joined: string[]; left: string[] };
    expect(result.joined.toSorted()).toEqual([c.id!, 'lobby'].toSorted());
    expect(result.left).toEqual([c.id]);
  });

  it('disconnect disconnects the current client', async () => {
    const c = await connect(url);
    const gone = disconnected(c);
    c.emit('hang-up');
    expect(await gone).toBe('io server disconnect');
  });

  it('outside a handler every getter and method says where it is valid', async () => {
    const ctx = app.get(SocketContext);
    expect(ctx.active).toBe(false);
    const message = /only available inside a socket handler/;
    expect(() => ctx.sid).toThrow(message);
    expect(() => ctx.namespace).toThrow(message);
    expect(() => ctx.socket).toThrow(message);
    expect(() => ctx.event).toThrow(message);
    expect(() => ctx.session).toThrow(message);
    expect(() => ctx.handshake).toThrow(message);
    expect(() => ctx.emit('x')).toThrow(message);
    expect(() => ctx.send('x')).toThrow(message);
    expect(() => ctx.call('x')).toThrow(message);
    expect(() => ctx.joinRoom('x')).toThrow(message);
    expect(() => ctx.leaveRoom('x')).toThrow(message);
    expect(() => ctx.rooms()).toThrow(message);
    expect(() => ctx.disconnect()).toThrow(message);
    // A background task is outside any client too.
    const sockets = app.get(SocketService);
    let inside: unknown;
    await sockets.startBackgroundTask(() => {
      inside = ctx.active;
    }).done;
    expect(inside).toBe(false);
  });
});

describe('catch-all handlers', () => {
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    ({ app, url } = await startApp({
      imports: [SocketIOModule.forRoot()],
      providers: [ContextGateway, SiblingGateway, First, Second, Third],
    }));
  });
  afterAll(() => app.close());
  afterEach(() => closeClients());

  it('receives events no other handler takes, with their real name and data', async () => {
    const c = await connect(url);
    expect(await c.emitWithAck('anything', { a: 1 })).toEqual({
      caughtBy: '*',
      name: 'anything',
      data: { a: 1 },
      args: [{ a: 1 }],
    });
    // Several arguments arrive as an array; the ack is never one of them.
    expect(await c.emitWithAck('several', 1, 'two')).toEqual({
      caughtBy: '*',
      name: 'several',
      data: [1, 'two'],
      args: [1, 'two'],
    });
  });

  it('does not receive events another handler takes', async () => {
    const c = await connect(url);
    const result = (await c.emitWithAck('decorators')) as { name: string };
    expect(result.name).toBe('decorators');
    expect(result).not.toHaveProperty('caughtBy');
    // Taken by another gateway of the namespace: answered once, by that gateway.
    const acks: unknown[] = [];
    c.emit('sibling', 5, (reply: unknown) => acks.push(reply));
    const exceptions: unknown[] = [];
    c.on('exception', (e: unknown) => exceptions.push(e));
    expect(await c.emitWithAck('sibling', 6)).toEqual({ caughtBy: 'sibling', data: 6 });
    expect(acks).toEqual([{ caughtBy: 'sibling', data: 5 }]);
    expect(exceptions).toEqual([]);
  });
});
