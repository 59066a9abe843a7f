import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { DefaultEventsMap, Server, Socket } from 'socket.io';
import { DEFAULT_CALL_TIMEOUT } from '../socket-io.constants.js';
import type { BroadcastOperator } from '../interfaces/broadcast-operator.interface.js';
import { SocketServers } from './socket-servers.js';
import { SocketContextStorage, type SocketCallFrame } from '../context/socket-context.storage.js';
import { TimeoutError } from '../errors/timeout.error.js';
import { UnknownClientError } from '../errors/unknown-client.error.js';
import { BackgroundTasks } from './background-tasks.js';
import { SocketIOConfig } from '../socket-io.config.js';
import type {
  BackgroundTask,
  CallOptions,
  EmitOptions,
  EventsMap,
  SidOptions,
} from '../interfaces/socket-service.interface.js';

type EmitArgs<Map extends EventsMap, Ev extends keyof Map> = [
  data?: Parameters<Map[Ev]>[0],
  options?: EmitOptions,
];

/**
 * Emits, calls clients, manages rooms and runs background tasks from anywhere: a gateway, an
 * HTTP controller, a queue consumer, a cron job, or (with `emitterOnly`) another process.
 * Generic over socket.io's event maps, so emits can be checked at compile time.
 */
@Injectable()
export class SocketService<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = DefaultEventsMap,
  ServerSideEvents extends EventsMap = DefaultEventsMap,
  SocketData = any,
> implements OnModuleDestroy {
  private readonly tasks: BackgroundTasks;

  constructor(
    @Inject(SocketServers) private readonly host: SocketServers,
    @Inject(SocketContextStorage) private readonly storage: SocketContextStorage,
    @Inject(SocketIOConfig) config: SocketIOConfig,
  ) {
    this.tasks = new BackgroundTasks(storage, config.logger);
  }

  /** The Socket.IO server of the module's path (not available with `emitterOnly`). */
  get server(): Server<ListenEvents, EmitEvents, ServerSideEvents, SocketData> {
    const server = this.host.server;
    if (!server) throw new Error(this.needsServer('server'));
    return server as unknown as Server<ListenEvents, EmitEvents, ServerSideEvents, SocketData>;
  }

  /**
   * Emits an event to every client of a namespace, or to the sids and rooms in `to`.
   * @example sockets.emit('news', { title }, { to: 'room-1', skipSid: ctx.sid });
   */
  emit<Ev extends keyof EmitEvents & string>(
    event: Ev,
    ...[data, options]: EmitArgs<EmitEvents, Ev>
  ): void {
    const args = data === undefined ? [] : [data];
    const frame = this.storage.current;
    if (!options) {
      const namespace = frame ? frame.socket.nsp.name : '/';
      this.operator(namespace).emit(event, ...args);
      if (frame && isAdmitting(frame))
        this.reachAdmitting(frame.socket, namespace, {}, [], event, args);
      return;
    }
    // socket.io broadcasts to everyone when given no room: an empty list must reach nobody.
    if (Array.isArray(options.to) && options.to.length === 0) return;
    const namespace = this.namespaceOf(options.namespace);
    let op = this.operator(namespace);
    if (options.to !== undefined) op = op.to(options.to);
    const skip = this.skipped(options);
    if (skip.length) op = op.except(skip);
    if (options.volatile) op = op.volatile;
    if (options.compress !== undefined) op = op.compress(options.compress);
    op.emit(event, ...args);
    if (frame && isAdmitting(frame)) {
      this.reachAdmitting(frame.socket, namespace, options, skip, event, args);
    }
  }

  /**
   * Sends a `message` event (Flask-SocketIO's `send`).
   * @example sockets.send('hello everyone');
   */
  send(data: unknown, options?: EmitOptions): void {
    (this.emit as (event: string, data?: unknown, options?: EmitOptions) => void)(
      'message',
      data,
      options,
    );
  }

  /**
   * Emits to one client and resolves with its ack; rejects with a `TimeoutError` after `timeout`.
   * @example const answer = await sockets.call<string>('question', 'ready?', { to: sid, timeout: 5000 });
   */
  async call<T = unknown>(event: string, data: unknown, options: CallOptions): Promise<T> {
    if (!this.host.server) throw new Error(this.needsServer('call()'));
    const ns = this.namespaceOf(options.namespace);
    const timeout = options.timeout ?? DEFAULT_CALL_TIMEOUT;
    const args = data === undefined ? [] : [data];
    const socket = this.localSocket(options.to, ns);
    try {
      if (socket) return await ackOrGone<T>(socket, event, args, timeout);
      const nsp = this.host.namespace(ns);
      if (!nsp || !this.host.hasMessageQueue) throw new UnknownClientError(options.to, ns);
      const replies = (await nsp
        .to(options.to)
        .timeout(timeout)
        .emitWithAck(event, ...args)) as T[];
      if (replies.length === 0) throw new UnknownClientError(options.to, ns);
      return replies[0];
    } catch (err) {
      if (err instanceof Error && /timed out/.test(err.message)) {
        throw new TimeoutError(
          `Client "${options.to}" did not acknowledge "${event}" within ${timeout} ms`,
        );
      }
      throw err;
    }
  }

  /**
   * Puts a client in one or more rooms; resolves once the change is in effect.
   * @example await sockets.joinRoom('lobby', { sid });
   */
  async joinRoom(room: string | string[], options: SidOptions = {}): Promise<void> {
    const { sid, namespace } = this.target(options);
    const socket = this.localSocket(sid, namespace);
    if (socket) return socket.join(room);
    await this.host.remote.join(namespace, sid, room);
  }

  /**
   * Takes a client out of a room; resolves once the change is in effect.
   * @example await sockets.leaveRoom('lobby', { sid });
   */
  async leaveRoom(room: string, options: SidOptions = {}): Promise<void> {
    const { sid, namespace } = this.target(options);
    const socket = this.localSocket(sid, namespace);
    if (socket) return socket.leave(room);
    await this.host.remote.leave(namespace, sid, room);
  }

  /**
   * Removes every client from a room, in every process.
   * @example await sockets.closeRoom('game-42');
   */
  async closeRoom(room: string, namespace?: string): Promise<void> {
    const ns = this.namespaceOf(namespace);
    this.operator(ns).to(room).socketsLeave(room);
    await this.host.remote.settle(ns, room);
  }

  /**
   * The rooms a client is in, its own sid room included.
   * @example const rooms = await sockets.rooms({ sid });
   */
  async rooms(options: SidOptions = {}): Promise<string[]> {
    const { sid, namespace } = this.target(options);
    const socket = this.localSocket(sid, namespace);
    const frame = this.storage.current;
    if (socket && frame?.roomsAtDisconnect && frame.socket === socket) {
      return [...frame.roomsAtDisconnect];
    }
    if (socket) return [...socket.rooms];
    if (!this.host.server) throw new Error(this.needsServer('rooms()'));
    return this.host.remote.rooms(namespace, sid);
  }

  /**
   * Disconnects a client from a namespace; `silent` skips the server's disconnect handlers.
   * @example await sockets.disconnect({ sid });
   */
  async disconnect(options: SidOptions & { silent?: boolean } = {}): Promise<void> {
    const { sid, namespace } = this.target(options);
    const socket = this.localSocket(sid, namespace);
    if (socket) {
      if (options.silent) this.host.silence(socket);
      socket.disconnect();
      return;
    }
    await this.host.remote.disconnect(namespace, sid);
  }

  /**
   * Runs a function in the background; it gets an AbortSignal that fires when the app closes,
   * and the app waits for it to finish before it shuts down.
   * @example sockets.startBackgroundTask(async (signal) => {
   *   while (!signal.aborted) { sockets.emit('tick', Date.now()); await sockets.sleep(1000, signal); }
   * });
   */
  startBackgroundTask(task: (signal: AbortSignal) => unknown): BackgroundTask {
    return this.tasks.start(task);
  }

  /**
   * Waits `ms` milliseconds; resolves early when `signal` aborts or the app is closing.
   * @example await sockets.sleep(1000, signal);
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return this.tasks.sleep(ms, signal);
  }

  /**
   * Stops serving: aborts and awaits background tasks, disconnects every client, closes the server.
   * @example await sockets.stop();
   */
  async stop(): Promise<void> {
    await this.tasks.drain();
    await this.host.stop();
  }

  /** @internal Nest lifecycle: background tasks are aborted and awaited when the app closes. */
  async onModuleDestroy(): Promise<void> {
    await this.tasks.drain();
  }

  /**
   * A client being admitted (connection guards, `handleConnection`) is not in its namespace yet,
   * so socket.io's broadcasts miss it; Flask-SocketIO's connect handler already counts it in.
   * The packet goes out once the client is accepted, and never to a refused one.
   */
  private reachAdmitting(
    socket: Socket,
    namespace: string,
    options: EmitOptions,
    skip: string[],
    event: string,
    args: unknown[],
  ): void {
    if (socket.nsp.name !== namespace) return;
    const inAny = (targets: string[]) =>
      targets.some((t) => t === socket.id || socket.rooms.has(t));
    if (options.to !== undefined && !inAny(([] as string[]).concat(options.to))) return;
    if (inAny(skip)) return;
    this.host.whenAccepted(socket, () => socket.emit(event, ...args));
  }

  private operator(namespace: string): BroadcastOperator {
    return this.host.operator(namespace);
  }

  private namespaceOf(namespace: string | undefined): string {
    return namespace ?? this.storage.current?.socket.nsp.name ?? '/';
  }

  private skipped(options: EmitOptions): string[] {
    const skip = options.skipSid === undefined ? [] : ([] as string[]).concat(options.skipSid);
    if (options.includeSelf === false) {
      const frame = this.storage.current;
      if (!frame) {
        throw new Error(
          'emit(): includeSelf: false needs a current client; use skipSid outside a handler',
        );
      }
      skip.push(frame.socket.id);
    }
    return skip;
  }

  private target(options: SidOptions): { sid: string; namespace: string } {
    const frame = this.storage.current;
    const sid = options.sid ?? frame?.socket.id;
    if (!sid) {
      throw new Error('No sid given and no current client: pass { sid } outside a socket handler');
    }
    return { sid, namespace: this.namespaceOf(options.namespace) };
  }

  private localSocket(sid: string, namespace: string): Socket | undefined {
    // In handleConnection and connection guards the client is not in nsp.sockets yet.
    const current = this.storage.current?.socket;
    if (current && current.id === sid && current.nsp.name === namespace) return current;
    return this.host.namespace(namespace)?.sockets.get(sid);
  }

  private needsServer(what: string): string {
    return `SocketService.${what} needs a Socket.IO server; it is not available with emitterOnly: true`;
  }
}

/**
 * The client's ack. A client that disconnects first rejects the call at once with an
 * `UnknownClientError`. The timer is ours, not socket.io's `timeout()`: socket.io keeps its timer
 * after a disconnect, which holds a closed app's process open for the whole timeout.
 */
function ackOrGone<T>(socket: Socket, event: string, args: unknown[], timeout: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const finish = (settle: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.off('disconnect', gone);
      settle();
    };
    const gone = () => finish(() => reject(new UnknownClientError(socket.id, socket.nsp.name)));
    const timer = setTimeout(
      () =>
        finish(() =>
          reject(
            new TimeoutError(
              `Client "${socket.id}" did not acknowledge "${event}" within ${timeout} ms`,
            ),
          ),
        ),
      timeout,
    );
    socket.once('disconnect', gone);
    socket.emit(event, ...args, (value: unknown) => finish(() => resolve(value as T)));
  });
}

/** True in connection guards and `handleConnection`, before socket.io has accepted the client. */
function isAdmitting(frame: SocketCallFrame): boolean {
  return (
    !frame.socket.connected &&
    frame.eventName === undefined &&
    frame.roomsAtDisconnect === undefined
  );
}
