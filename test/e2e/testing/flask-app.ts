// The application of Flask-SocketIO's own test suite, rewritten as Nest gateways.
import { Injectable, type ModuleMetadata } from '@nestjs/common';
import {
  ConnectedSocket,
  MessageBody,
  SubscribeMessage,
  WebSocketGateway,
  type OnGatewayConnection,
  type OnGatewayDisconnect,
} from '@nestjs/websockets';
import type { Socket } from 'socket.io';
import {
  ConnectionRefusedError,
  EventName,
  OnSocketError,
  SocketContext,
  SocketIOModule,
  SocketService,
  type SocketIOModuleOptions,
} from 'nest-socketio';

/** An error the error handlers recognise (Flask's tests raise AssertionError). */
export class ExpectedFailure extends Error {}

/** What the handlers saw, for the tests to look at (Flask's module globals). */
@Injectable()
export class Recorder {
  disconnected: string | null = null;
  requestEvent: { name: string; args: unknown[] } | undefined;
  errorTesting: Record<string, boolean> = {};
}

const HIDDEN_QUERY = new Set(['EIO', 'transport']);
const SHOWN_HEADERS = ['authorization', 'my-custom-header'];

/** What Flask's connect handlers send: a greeting, the query string, the custom headers. */
function greet(ctx: SocketContext, greeting: string): void {
  const query = Object.fromEntries(
    Object.entries(ctx.handshake.query).filter(([k]) => !HIDDEN_QUERY.has(k)),
  );
  const headers = Object.fromEntries(
    SHOWN_HEADERS.filter((h) => ctx.handshake.headers[h] !== undefined).map((h) => [
      h,
      ctx.handshake.headers[h],
    ]),
  );
  ctx.send(greeting);
  ctx.send(JSON.stringify(query));
  ctx.send(JSON.stringify(headers));
}

const noAck = (data: unknown) =>
  typeof data === 'object' && data !== null && (data as { noackargs?: boolean }).noackargs;

@WebSocketGateway()
export class RootGateway implements OnGatewayConnection, OnGatewayDisconnect {
  constructor(
    private readonly ctx: SocketContext,
    private readonly sockets: SocketService,
    private readonly rec: Recorder,
  ) {}

  handleConnection(client: Socket) {
    const auth = client.handshake.auth as { foo?: string };
    if (auth.foo !== 'bar') return false;
    if (client.handshake.query.fail) throw new ConnectionRefusedError('failed!', { code: 42 });
    greet(this.ctx, 'connected');
    this.sockets.emit('dummy', undefined, { to: 'nobody' });
  }

  handleDisconnect() {
    this.rec.disconnected = '/';
  }

  @SubscribeMessage('message')
  message(@MessageBody() message: string) {
    this.ctx.send(message);
    if (message === 'test session') {
      const session = this.ctx.session;
      session.a = session.a === undefined ? 'b' : 'c';
    }
    if (message !== 'test noackargs') return message;
  }

  @SubscribeMessage('session')
  session() {
    return this.ctx.session;
  }

  @SubscribeMessage('json')
  json(@MessageBody() data: Record<string, unknown>) {
    this.ctx.send(data, { broadcast: true });
    if (!noAck(data)) return data;
  }

  @SubscribeMessage('my custom event')
  customEvent(@MessageBody() data: unknown) {
    this.ctx.emit('my custom response', data);
    if (!noAck(data)) return data;
  }

  @SubscribeMessage('other custom event')
  other(@MessageBody() data: unknown) {
    this.rec.requestEvent = this.ctx.event;
    this.ctx.emit('my custom response', data);
  }

  @SubscribeMessage('and another custom event')
  another(@MessageBody() data: unknown) {
    this.other(data);
  }

  @SubscribeMessage('yet another custom event')
  yetAnother(@MessageBody() data: unknown) {
    this.other(data);
  }

  @SubscribeMessage('*')
  catchAll(
    @EventName() event: string,
    @MessageBody() data: unknown,
    @ConnectedSocket() client: Socket,
  ) {
    client.emit('my custom response', event, data);
  }

  @SubscribeMessage('my custom broadcast event')
  broadcast(@MessageBody() data: unknown) {
    this.ctx.emit('my custom response', data, { broadcast: true });
  }

  @SubscribeMessage('join room')
  async join(@MessageBody() data: { room: string }) {
    await this.ctx.joinRoom(data.room);
  }

  @SubscribeMessage('leave room')
  async leave(@MessageBody() data: { room: string }) {
    await this.ctx.leaveRoom(data.room);
  }

  @SubscribeMessage('my room event')
  roomEvent(@MessageBody() data: { room: string; [k: string]: unknown }) {
    const { room, ...rest } = data;
    this.sockets.emit('my room response', rest, { to: room });
  }

  @SubscribeMessage('bad response')
  badResponse() {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    this.ctx.emit('my custom response', circular);
  }

  @SubscribeMessage('bad callback')
  badCallback() {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    return circular;
  }

  @SubscribeMessage('changing response')
  changing() {
    const data = { foo: 'bar' };
    this.ctx.emit('my custom response', data);
    data.foo = 'baz';
    return data;
  }

  @SubscribeMessage('error testing')
  errorTesting() {
    throw new ExpectedFailure();
  }

  @OnSocketError()
  onError(error: unknown) {
    if (!(error instanceof ExpectedFailure)) return undefined;
    this.rec.errorTesting['/'] = true;
    return 'error';
  }
}

@WebSocketGateway({ namespace: '/test' })
export class TestNamespaceGateway implements OnGatewayConnection, OnGatewayDisconnect {
  constructor(
    private readonly ctx: SocketContext,
    private readonly sockets: SocketService,
    private readonly rec: Recorder,
  ) {}

  handleConnection() {
    greet(this.ctx, 'connected-test');
  }

  handleDisconnect() {
    this.rec.disconnected = '/test';
  }

  @SubscribeMessage('message')
  message(@MessageBody() message: unknown) {
    this.ctx.send(message);
  }

  @SubscribeMessage('json')
  json(@MessageBody() data: unknown) {
    this.sockets.send(data, { namespace: '/test', to: this.ctx.sid });
  }

  @SubscribeMessage('my custom namespace event')
  custom(@MessageBody() data: unknown) {
    this.ctx.emit('my custom namespace response', data);
  }

  @SubscribeMessage('yet another custom namespace event')
  yetAnother(@MessageBody() data: unknown) {
    this.custom(data);
  }

  @SubscribeMessage('my custom broadcast namespace event')
  broadcast(@MessageBody() data: unknown) {
    this.sockets.emit('my custom namespace response', data, { namespace: '/test' });
  }

  @SubscribeMessage('join room')
  async join(@MessageBody() data: { room: string }) {
    await this.ctx.joinRoom(data.room);
  }

  @SubscribeMessage('leave room')
  async leave(@MessageBody() data: { room: string }) {
    await this.ctx.leaveRoom(data.room);
  }

  @SubscribeMessage('my room namespace event')
  roomEvent(@MessageBody() data: { room: string }) {
    this.ctx.send('room message', { to: data.room });
  }

  @SubscribeMessage('error testing')
  errorTesting() {
    throw new ExpectedFailure();
  }

  @OnSocketError()
  onError(error: unknown) {
    if (!(error instanceof ExpectedFailure)) return undefined;
    this.rec.errorTesting['/test'] = true;
    return 'error/test';
  }
}

/** Flask's `namespace='*'` handler: here a dynamic namespace. */
@WebSocketGateway({ namespace: /^\/dyn-\w+$/ })
export class WildcardNamespaceGateway {
  constructor(private readonly ctx: SocketContext) {}

  @SubscribeMessage('wildcard')
  wildcard(@MessageBody() data: unknown) {
    this.ctx.emit('my custom response', data);
  }
}

/** A namespace without an error handler of its own: `defaultErrorHandler` answers. */
@WebSocketGateway({ namespace: '/unused_namespace' })
export class UnusedNamespaceGateway {
  @SubscribeMessage('error testing')
  errorTesting() {
    throw new ExpectedFailure();
  }
}

/** Flask's class-based `Namespace('/ns')`. */
@WebSocketGateway({ namespace: '/ns' })
export class ClassBasedGateway implements OnGatewayConnection, OnGatewayDisconnect {
  constructor(
    private readonly ctx: SocketContext,
    private readonly rec: Recorder,
  ) {}

  handleConnection() {
    greet(this.ctx, 'connected-ns');
  }

  handleDisconnect() {
    this.rec.disconnected = '/ns';
  }

  @SubscribeMessage('message')
  message(@MessageBody() message: string) {
    this.ctx.send(message);
    if (message !== 'test noackargs') return message;
  }

  @SubscribeMessage('json')
  json(@MessageBody() data: unknown) {
    this.ctx.send(data, { broadcast: true });
    if (!noAck(data)) return data;
  }

  @SubscribeMessage('exit')
  async exit() {
    await this.ctx.disconnect();
  }

  @SubscribeMessage('my_custom_event')
  custom(@MessageBody() data: unknown) {
    this.ctx.emit('my custom response', data);
    if (!noAck(data)) return data;
  }

  @SubscribeMessage('other_custom_event')
  other(@MessageBody() data: unknown) {
    this.rec.requestEvent = this.ctx.event;
    this.ctx.emit('my custom response', data);
  }
}

/** A connect handler that starts a background task which emits to the namespace. */
@WebSocketGateway({ namespace: '/bgtest' })
export class BackgroundGateway implements OnGatewayConnection {
  constructor(private readonly sockets: SocketService) {}

  handleConnection() {
    this.sockets.startBackgroundTask(async () => {
      await this.sockets.sleep(0);
      this.sockets.emit('bgtest', undefined, { namespace: '/bgtest' });
    });
  }
}

/** Answers asked of the client through `SocketService.call()` (beyond Flask: `onCall`). */
@WebSocketGateway({ namespace: '/call' })
export class CallGateway {
  constructor(private readonly ctx: SocketContext) {}

  @SubscribeMessage('ask')
  async ask(@MessageBody() question: string) {
    const answer = await this.ctx.call<string>('question', question, { timeout: 500 });
    return { answer };
  }
}

export const flaskGateways = [
  RootGateway,
  TestNamespaceGateway,
  WildcardNamespaceGateway,
  UnusedNamespaceGateway,
  ClassBasedGateway,
  BackgroundGateway,
  CallGateway,
];

/** The whole app, as the metadata of a testing module. */
export function flaskApp(options: SocketIOModuleOptions = {}): ModuleMetadata {
  return {
    imports: [
      SocketIOModule.forRoot({
        logger: false,
        defaultErrorHandler: (error) =>
          error instanceof ExpectedFailure ? 'error/default' : undefined,
        ...options,
      }),
    ],
    providers: [Recorder, ...flaskGateways],
  };
}
