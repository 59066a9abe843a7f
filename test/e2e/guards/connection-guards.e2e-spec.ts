import {
  Injectable,
  SetMetadata,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
  type INestApplication,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { MessageBody, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { of, type Observable } from 'rxjs';
import type { Socket } from 'socket.io';
import type { Socket as ClientSocket } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  ConnectionRefusedError,
  OnSocketError,
  SocketContext,
  SocketIOModule,
  SocketService,
  UseConnectionGuards,
} from 'nest-socketio';
import { client, closeClients, connect, next, startApp } from '../../support/app.js';

/** What the server did, for the tests to check. */
const calls = { handleConnection: [] as string[], hello: [] as string[], guard: [] as unknown[] };

/** Lets a test hold a guard until it has done something while the client waits. */
let gate: { entered: (socket: Socket) => void; release: Promise<void> } | undefined;

@Injectable()
class TokenService {
  isValid(token: unknown): boolean {
    return token === 'good';
  }
}

/** A guard with a dependency: the DI container builds it. */
@Injectable()
class TokenGuard implements CanActivate {
  constructor(private readonly tokens: TokenService) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> | Observable<boolean> {
    const ws = context.switchToWs();
    const socket = ws.getClient<Socket>();
    const auth = ws.getData<Record<string, unknown>>();
    calls.guard.push({
      type: context.getType(),
      auth,
      isSocket: typeof socket.join === 'function',
    });
    if (auth.refuse === 'error') throw new ConnectionRefusedError('Banned', { reason: 'spam' });
    if (auth.refuse === 'http') throw new UnauthorizedException('Token expired');
    if (auth.refuse === 'observable') return of(false);
    if (auth.wait && gate) return this.holdThenCheck(socket, auth.token);
    return this.tokens.isValid(auth.token);
  }

  private async holdThenCheck(socket: Socket, token: unknown): Promise<boolean> {
    await socket.join('lobby');
    gate!.entered(socket);
    await gate!.release;
    return this.tokens.isValid(token);
  }
}

@UseConnectionGuards(TokenGuard)
@WebSocketGateway({ namespace: '/guarded' })
class GuardedGateway {
  handleConnection(socket: Socket) {
    calls.handleConnection.push(socket.id);
  }

  @SubscribeMessage('hello')
  hello(@MessageBody() name: string) {
    calls.hello.push(name);
    return `hello ${name}`;
  }
}

/** handleConnection decides, and its namespace's error handler may forgive or refuse. */
@WebSocketGateway({ namespace: '/hc' })
class HandleConnectionGateway {
  constructor(private readonly ctx: SocketContext) {}

  async handleConnection(socket: Socket) {
    const mode = socket.handshake.auth.mode;
    // Greets first, decides after: a refused client must not hear the greeting.
    this.ctx.emit('welcome', 'hi');
    await Promise.resolve();
    if (mode === 'false') return false;
    if (mode === 'refuse') throw new ConnectionRefusedError('Go away', { code: 7 });
    if (mode === 'handled' || mode === 'forgive') throw new Error(mode);
    calls.handleConnection.push(this.ctx.sid);
    return undefined;
  }

  @OnSocketError()
  onError(error: Error) {
    if (error.message === 'handled') return false;
    if (error.message === 'forgive') return 'forgiven';
    return undefined;
  }

  @SubscribeMessage('ping')
  ping() {
    return 'pong';
  }
}

/** An async handleConnection that fails, in a namespace without an error handler. */
@WebSocketGateway({ namespace: '/crash' })
class CrashGateway {
  async handleConnection(socket: Socket) {
    await Promise.resolve();
    if (socket.handshake.auth.mode === 'crash') throw new Error('database down');
    calls.handleConnection.push(socket.id);
  }

  @SubscribeMessage('ping')
  ping() {
    return 'pong';
  }
}

/** Reads metadata from the gateway class and its handleConnection method, as auth guards do. */
@Injectable()
class PublicGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}
  canActivate(context: ExecutionContext): boolean {
    const open = this.reflector.getAllAndOverride<string>('access', [
      context.getHandler(),
      context.getClass(),
    ]);
    return open === 'public';
  }
}

@UseConnectionGuards(PublicGuard)
@SetMetadata('access', 'public')
@WebSocketGateway({ namespace: '/public-class' })
class PublicClassGateway {
  @SubscribeMessage('ping')
  ping() {
    return 'pong';
  }
}

@UseConnectionGuards(PublicGuard)
@SetMetadata('access', 'public')
@WebSocketGateway({ namespace: '/closed-method' })
class ClosedMethodGateway {
  @SetMetadata('access', 'private')
  handleConnection() {}

  @SubscribeMessage('ping')
  ping() {
    return 'pong';
  }
}

/** An error handler that lets handleConnection errors through cannot open a guard. */
@UseConnectionGuards(TokenGuard)
@WebSocketGateway({ namespace: '/lenient' })
class LenientGateway {
  @OnSocketError()
  onError() {
    return 'never mind';
  }

  @SubscribeMessage('ping')
  ping() {
    return 'pong';
  }
}

/** Every socket.io packet a client receives. */
function packets(socket: ClientSocket, nsp: string): { type: number; data?: unknown }[] {
  const seen: { type: number; data?: unknown }[] = [];
  socket.io.on('packet', (packet) => {
    if (packet.nsp === nsp) seen.push({ type: packet.type, data: packet.data });
  });
  return seen;
}

async function refusal(socket: ClientSocket): Promise<{ message: string; data?: unknown }> {
  const err = await next<Error & { data?: unknown }>(socket, 'connect_error');
  return err.data === undefined
    ? { message: err.message }
    : { message: err.message, data: err.data };
}

describe('connection guards and handleConnection', () => {
  let app: INestApplication;
  let url: string;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    ({ app, url } = await startApp({
      imports: [SocketIOModule.forRoot()],
      providers: [
        TokenService,
        TokenGuard,
        GuardedGateway,
        HandleConnectionGateway,
        CrashGateway,
        PublicClassGateway,
        ClosedMethodGateway,
        LenientGateway,
      ],
    }));
  });
  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    await app.close();
  });
  afterEach(() => {
    closeClients();
    calls.handleConnection.length = 0;
    calls.hello.length = 0;
    calls.guard.length = 0;
    gate = undefined;
  });

  it('admits a client the guard (built with its dependencies) accepts', async () => {
    const c = await connect(`${url}/guarded`, { auth: { token: 'good' } });
    expect(await c.emitWithAck('hello', 'ann')).toBe('hello ann');
    expect(calls.handleConnection).toEqual([c.id]);
    expect(calls.guard).toEqual([{ type: 'ws', auth: { token: 'good' }, isSocket: true }]);
  });

  it("a guard's Reflector finds metadata on the gateway class and on handleConnection", async () => {
    const open = await connect(`${url}/public-class`);
    expect(await open.emitWithAck('ping')).toBe('pong');
    expect(await refusal(client(`${url}/closed-method`))).toEqual({
      message: 'Connection rejected by server',
    });
  });

  it('a guard returning false refuses with "Connection rejected by server"', async () => {
    expect(await refusal(client(`${url}/guarded`, { auth: { token: 'bad' } }))).toEqual({
      message: 'Connection rejected by server',
    });
    expect(await refusal(client(`${url}/guarded`, { auth: { refuse: 'observable' } }))).toEqual({
      message: 'Connection rejected by server',
    });
    expect(calls.handleConnection).toEqual([]);
  });

  it('a guard throwing ConnectionRefusedError refuses with its message and data', async () => {
    expect(await refusal(client(`${url}/guarded`, { auth: { refuse: 'error' } }))).toEqual({
      message: 'Banned',
      data: { reason: 'spam' },
    });
  });

  it('a guard that throws refuses even when the error handler returns something else', async () => {
    expect(await refusal(client(`${url}/lenient`, { auth: { refuse: 'error' } }))).toEqual({
      message: 'Banned',
      data: { reason: 'spam' },
    });
    expect(await refusal(client(`${url}/lenient`, { auth: { refuse: 'http' } }))).toEqual({
      message: 'Connection rejected by server',
    });
    const ok = await connect(`${url}/lenient`, { auth: { token: 'good' } });
    expect(await ok.emitWithAck('ping')).toBe('pong');
  });

  it('a guard throwing an HttpException refuses with its message and status', async () => {
    expect(await refusal(client(`${url}/guarded`, { auth: { refuse: 'http' } }))).toEqual({
      message: 'Token expired',
      data: { status: 401 },
    });
  });

  it('a refused client receives no other packet, enters no room and reaches no handler', async () => {
    let entered!: () => void;
    const inGuard = new Promise<void>((resolve) => (entered = resolve));
    let release!: () => void;
    gate = { entered, release: new Promise<void>((resolve) => (release = resolve)) };
    const sockets = app.get(SocketService);
    const nsp = sockets.server.of('/guarded');
    const member = await connect(`${url}/guarded`, { auth: { token: 'good' } });
    const memberNews = next(member, 'news');

    const refused = client(`${url}/guarded`, { auth: { token: 'bad', wait: true } });
    const seen = packets(refused, '/guarded');
    let connected = false;
    refused.on('connect', () => (connected = true));
    refused.emit('hello', 'intruder');
    await inGuard;
    // While it waits in the guard, everything that could reach it is tried.
    sockets.emit('news', 1, { namespace: '/guarded' });
    nsp.to('lobby').emit('lobby-news', 2);
    const pending = [
      ...(nsp as unknown as { _preConnectSockets: Map<string, Socket> })._preConnectSockets.keys(),
    ];
    expect(pending).toHaveLength(1);
    nsp.to(pending[0]!).emit('direct', 3);
    release();

    expect(await refusal(refused)).toEqual({ message: 'Connection rejected by server' });
    expect(await memberNews).toBe(1);
    expect(await member.emitWithAck('hello', 'member')).toBe('hello member');
    expect(seen).toEqual([{ type: 4, data: { message: 'Connection rejected by server' } }]);
    expect(connected).toBe(false);
    expect(calls.hello).toEqual(['member']);
    expect(calls.handleConnection).toEqual([member.id]);
    expect(nsp.adapter.rooms.get('lobby')).toBeUndefined();
    expect(nsp.adapter.sids.has(pending[0]!)).toBe(false);
    expect([...nsp.sockets.keys()]).toEqual([member.id]);
  });

  it('handleConnection returning false refuses; what it sent the client is dropped', async () => {
    const refused = client(`${url}/hc`, { auth: { mode: 'false' } });
    const seen = packets(refused, '/hc');
    expect(await refusal(refused)).toEqual({ message: 'Connection rejected by server' });
    expect(seen).toEqual([{ type: 4, data: { message: 'Connection rejected by server' } }]);
    // An accepted client does get what handleConnection sent it.
    const accepted = client(`${url}/hc`, { auth: {} });
    expect(await next(accepted, 'welcome')).toBe('hi');
    expect(accepted.connected).toBe(true);
  });

  it('handleConnection throwing ConnectionRefusedError refuses with its message and data', async () => {
    expect(await refusal(client(`${url}/hc`, { auth: { mode: 'refuse' } }))).toEqual({
      message: 'Go away',
      data: { code: 7 },
    });
  });

  it('an @OnSocketError() handler returning false refuses; another value lets the client in', async () => {
    expect(await refusal(client(`${url}/hc`, { auth: { mode: 'handled' } }))).toEqual({
      message: 'Connection rejected by server',
    });
    const forgiven = await connect(`${url}/hc`, { auth: { mode: 'forgive' } });
    expect(await forgiven.emitWithAck('ping')).toBe('pong');
  });

  it('an async error in handleConnection refuses the client and is not an unhandled rejection', async () => {
    expect(await refusal(client(`${url}/crash`, { auth: { mode: 'crash' } }))).toEqual({
      message: 'Internal server error',
    });
    // A later round trip: any unhandled rejection of the refusal would have been reported by now.
    const c = await connect(`${url}/crash`, { auth: {} });
    expect(await c.emitWithAck('ping')).toBe('pong');
    expect(calls.handleConnection).toEqual([c.id]);
    expect(unhandled).toEqual([]);
  });
});

@Injectable()
class BlockGuard implements CanActivate {
  constructor(private readonly tokens: TokenService) {}
  canActivate(context: ExecutionContext): boolean {
    const auth = context.switchToWs().getData<Record<string, unknown>>();
    return !auth.blocked && (auth.token === undefined || this.tokens.isValid(auth.token));
  }
}

@WebSocketGateway()
class MainGateway {
  @SubscribeMessage('ping')
  ping() {
    return 'main pong';
  }
}

@WebSocketGateway({ namespace: '/admin' })
class AdminGateway {
  @SubscribeMessage('ping')
  ping() {
    return 'admin pong';
  }
}

describe('the connectionGuards option', () => {
  let app: INestApplication;
  let url: string;
  beforeAll(async () => {
    ({ app, url } = await startApp({
      imports: [SocketIOModule.forRoot({ connectionGuards: [BlockGuard] })],
      providers: [TokenService, MainGateway, AdminGateway],
    }));
  });
  afterAll(() => app.close());
  afterEach(() => closeClients());

  it('runs for every namespace, with dependency injection', async () => {
    for (const path of ['', '/admin']) {
      expect(await refusal(client(`${url}${path}`, { auth: { blocked: true } }))).toEqual({
        message: 'Connection rejected by server',
      });
      expect(await refusal(client(`${url}${path}`, { auth: { token: 'bad' } }))).toEqual({
        message: 'Connection rejected by server',
      });
    }
    expect(await (await connect(url, { auth: { token: 'good' } })).emitWithAck('ping')).toBe(
      'main pong',
    );
    expect(await (await connect(`${url}/admin`)).emitWithAck('ping')).toBe('admin pong');
  });
});

@UseConnectionGuards(TokenGuard)
@WebSocketGateway({ namespace: '/always' })
class AlwaysGateway {
  readonly disconnects: string[] = [];
  handleConnection(socket: Socket) {
    calls.handleConnection.push(socket.id);
    if (socket.handshake.auth.mode === 'false') return false;
    return undefined;
  }
  handleDisconnect(socket: Socket) {
    this.disconnects.push(socket.id);
  }
  @SubscribeMessage('hello')
  hello(@MessageBody() name: string) {
    calls.hello.push(name);
    return `hello ${name}`;
  }
}

describe('alwaysConnect', () => {
  afterEach(() => {
    closeClients();
    calls.handleConnection.length = 0;
    calls.hello.length = 0;
    gate = undefined;
  });

  it('true: the client is accepted first, then disconnected when refused (as Flask-SocketIO does)', async () => {
    const { app, url } = await startApp({
      imports: [SocketIOModule.forRoot({ alwaysConnect: true })],
      providers: [TokenService, TokenGuard, AlwaysGateway],
    });
    try {
      for (const auth of [{ token: 'bad' }, { token: 'good', mode: 'false' }]) {
        const refused = client(`${url}/always`, { auth });
        const connectError = next(refused, 'connect_error', 60_000).then(() => 'connect_error');
        const connected = next(refused, 'connect');
        const disconnected = next(refused, 'disconnect');
        await connected;
        expect(await disconnected).toBe('io server disconnect');
        expect(await Promise.race([connectError, Promise.resolve('none')])).toBe('none');
      }
      // The guard refused the first before handleConnection; handleConnection refused the second.
      expect(calls.handleConnection).toHaveLength(1);

      // An event sent once connected, while the guard still decides, waits and is dropped.
      let entered!: (socket: Socket) => void;
      const inGuard = new Promise<Socket>((resolve) => (entered = resolve));
      let release!: () => void;
      gate = { entered, release: new Promise<void>((resolve) => (release = resolve)) };
      const early = client(`${url}/always`, { auth: { token: 'bad', wait: true } });
      const disconnected = next(early, 'disconnect');
      early.on('connect', () => early.emit('hello', 'intruder'));
      const serverSocket = await inGuard;
      await new Promise<void>((resolve) => serverSocket.prependAny(() => resolve()));
      release();
      expect(await disconnected).toBe('io server disconnect');
      expect(calls.hello).toEqual([]);

      const accepted = await connect(`${url}/always`, { auth: { token: 'good' } });
      expect(await accepted.emitWithAck('hello', 'ann')).toBe('hello ann');
      expect(accepted.connected).toBe(true);
      expect(calls.handleConnection).toHaveLength(2);
      expect(calls.hello).toEqual(['ann']);
      // Refused clients never reach handleDisconnect: they were never admitted.
      expect(app.get(AlwaysGateway).disconnects).toEqual([]);
    } finally {
      await app.close();
    }
  });

  it('true: a client is out of namespace and room broadcasts until it is admitted', async () => {
    const { app, url } = await startApp({
      imports: [SocketIOModule.forRoot({ alwaysConnect: true })],
      providers: [TokenService, TokenGuard, AlwaysGateway],
    });
    try {
      const sockets = app.get(SocketService);
      for (const token of ['bad', 'good']) {
        let entered!: (socket: Socket) => void;
        const inGuard = new Promise<Socket>((resolve) => (entered = resolve));
        let release!: () => void;
        gate = { entered, release: new Promise<void>((resolve) => (release = resolve)) };
        const waiting = client(`${url}/always`, { auth: { token, wait: true } });
        const heard: string[] = [];
        waiting.on('news', (n: string) => heard.push(n));
        await next(waiting, 'connect');
        await inGuard;
        // The guard has put it in 'lobby'; neither broadcast may reach it before the decision.
        sockets.emit('news', 'to all', { namespace: '/always' });
        sockets.emit('news', 'to lobby', { namespace: '/always', to: 'lobby' });
        release();
        if (token === 'bad') {
          expect(await next(waiting, 'disconnect')).toBe('io server disconnect');
          expect(heard).toEqual([]);
          continue;
        }
        // Events wait for the decision: once answered, it is admitted, and hears broadcasts.
        expect(await waiting.emitWithAck('hello', 'ann')).toBe('hello ann');
        const after = next<string>(waiting, 'news');
        sockets.emit('news', 'after', { namespace: '/always', to: 'lobby' });
        expect(await after).toBe('after');
        expect(heard).toEqual(['after']);
      }
    } finally {
      await app.close();
    }
  });

  it('false (the default): a refused client never sees connect', async () => {
    const { app, url } = await startApp({
      imports: [SocketIOModule.forRoot()],
      providers: [TokenService, TokenGuard, AlwaysGateway],
    });
    try {
      for (const auth of [{ token: 'bad' }, { token: 'good', mode: 'false' }]) {
        const refused = client(`${url}/always`, { auth });
        let connected = false;
        refused.on('connect', () => (connected = true));
        expect(await refusal(refused)).toEqual({ message: 'Connection rejected by server' });
        expect(connected).toBe(false);
      }
      expect(app.get(AlwaysGateway).disconnects).toEqual([]);
    } finally {
      await app.close();
    }
  });
});
