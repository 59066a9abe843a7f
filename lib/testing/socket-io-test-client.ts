import type { Manager, Socket as ClientSocket } from 'socket.io-client';
import { cookieHeader } from './cookies.js';
import {
  serverReceived,
  settleTicks,
  watchServerSocket,
  type ServerProbe,
} from './server-probe.js';
import type {
  CallReply,
  ReceivedEvent,
  TestClientOptions,
  TestConnectOptions,
  TestEmitOptions,
  TestWaitOptions,
} from './test-client.options.js';

/** The event the server sends to mark that everything it emitted before has arrived. */
const SETTLED = '__nest_socketio_test_settled__';
const DEFAULT_TIMEOUT = 5000;

interface Waiter {
  name: string;
  namespace: string;
  resolve: (args: unknown[]) => void;
}

type Entry = ReceivedEvent & { waited: boolean };

/**
 * A Socket.IO client for tests (Flask-SocketIO's `SocketIOTestClient`): one real connection to
 * the app, any number of namespaces on it, and a record of everything the server sent.
 * Create it with `createTestClient(app, options)`.
 */
export class SocketIOTestClient {
  private readonly sockets = new Map<string, ClientSocket>();
  private readonly sent = new Map<string, number>();
  private readonly calls = new Map<string, Map<string, CallReply>>();
  private readonly settling = new Map<number, () => void>();
  private readonly waiters = new Set<Waiter>();
  private received: Entry[] = [];
  private settleSeq = 0;
  private closed = false;
  /** @internal Run once when the client closes (createTestClient unhooks the app's server). */
  readonly onClose: (() => void)[] = [];

  /** @internal Use `createTestClient()`. */
  constructor(
    private readonly manager: Manager,
    private readonly probe: ServerProbe,
    private readonly options: TestClientOptions & { url: URL; path: string },
  ) {}

  private get defaultNamespace(): string {
    return this.options.namespace ?? '/';
  }

  private get timeout(): number {
    return this.options.timeout ?? DEFAULT_TIMEOUT;
  }

  /** The client's sid in its namespace (the server's `client.id`, `SocketContext.sid`). */
  get sid(): string {
    return this.sidOf(this.defaultNamespace);
  }

  /** The client's sid in a namespace it connected to. */
  sidOf(namespace: string): string {
    const id = this.sockets.get(namespace)?.id;
    if (!id) throw new Error(`not connected to namespace "${namespace}"`);
    return id;
  }

  /**
   * Connects to a namespace (the client's own by default) over the client's connection; resolves
   * when the server accepted it and its connect handlers settled, rejects with the server's
   * `connect_error` (its `message`, and its `data`) when it refused.
   */
  async connect(
    namespace = this.defaultNamespace,
    options: TestConnectOptions = {},
  ): Promise<void> {
    if (this.closed) throw new Error('the test client is closed');
    const existing = this.sockets.get(namespace);
    if (existing?.connected) return;
    this.refreshHeaders();
    const socket = existing ?? this.manager.socket(namespace);
    socket.auth = options.auth ?? this.options.auth ?? {};
    if (!existing) this.wire(socket, namespace);
    this.sockets.set(namespace, socket);
    this.sent.set(namespace, 0);
    await new Promise<void>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        socket.off('connect', onConnect);
        socket.off('connect_error', onError);
      };
      const onConnect = () => {
        done();
        resolve();
      };
      const onError = (err: Error) => {
        done();
        reject(err);
      };
      // A guard or handleConnection that never settles would otherwise keep the test waiting.
      const timer = setTimeout(() => {
        done();
        socket.disconnect();
        reject(new Error(`no answer to connecting "${namespace}" within ${this.timeout} ms`));
      }, this.timeout);
      socket.once('connect', onConnect);
      socket.once('connect_error', onError);
      socket.connect();
    });
    const server = this.probe.socket(namespace, socket.id!);
    if (server) watchServerSocket(server);
    // What handleConnection emitted is already here; with alwaysConnect it may still be coming.
    await this.settle(namespace, this.timeout);
  }

  /**
   * Emits an event. With `{ ack: true }` resolves with the server's acknowledgement (one value, or
   * the list when it acked several); without, resolves with undefined once the server handled the
   * event and what its handler emitted has arrived (handlers that wait on real I/O: use `waitFor`).
   * Rejects with `not connected` when the namespace is not connected.
   */
  async emit<T = unknown>(
    event: string,
    data?: unknown,
    options: TestEmitOptions = {},
  ): Promise<T> {
    const namespace = options.namespace ?? this.defaultNamespace;
    const socket = this.sockets.get(namespace);
    if (!socket?.connected) throw new Error('not connected');
    const timeout = options.timeout ?? this.timeout;
    const args = data === undefined ? [] : [data];
    if (!options.ack) {
      // Throws here when the data cannot be encoded; then nothing was sent.
      socket.emit(event, ...args);
      this.countSent(namespace);
      await this.settle(namespace, timeout);
      return undefined as T;
    }
    return new Promise<T>((resolve, reject) => {
      socket.timeout(timeout).emit(event, ...args, (err: Error | null, ...reply: unknown[]) => {
        if (err) {
          reject(
            new Error(
              socket.connected
                ? `no ack for "${event}" within ${timeout} ms`
                : `disconnected before the ack of "${event}"`,
            ),
          );
        } else resolve((reply.length > 1 ? reply : reply[0]) as T);
      });
      this.countSent(namespace);
    });
  }

  private countSent(namespace: string): void {
    this.sent.set(namespace, (this.sent.get(namespace) ?? 0) + 1);
  }

  /** Sends a `message` event (Flask-SocketIO's `send`), as `emit('message', data, options)`. */
  send<T = unknown>(data: unknown, options?: TestEmitOptions): Promise<T> {
    return this.emit<T>('message', data, options);
  }

  /** Returns and forgets the events received on a namespace (the client's own by default). */
  getReceived(namespace = this.defaultNamespace): ReceivedEvent[] {
    const mine = this.received.filter((e) => e.namespace === namespace);
    this.received = this.received.filter((e) => e.namespace !== namespace);
    return mine.map(({ name, args }) => ({ name, args, namespace }));
  }

  /**
   * Resolves with the arguments of the first `event` that no earlier `waitFor` returned, whether
   * it already arrived or arrives later; rejects after `timeout`. It stays in `getReceived()`.
   */
  waitFor<T extends unknown[] = unknown[]>(
    event: string,
    options: TestWaitOptions = {},
  ): Promise<T> {
    const namespace = options.namespace ?? this.defaultNamespace;
    const timeout = options.timeout ?? this.timeout;
    const already = this.received.find(
      (e) => !e.waited && e.name === event && e.namespace === namespace,
    );
    if (already) {
      already.waited = true;
      return Promise.resolve(already.args as T);
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        name: event,
        namespace,
        resolve: (args) => {
          clearTimeout(timer);
          resolve(args as T);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(
          new Error(`no "${event}" received on namespace "${namespace}" within ${timeout} ms`),
        );
      }, timeout);
      this.waiters.add(waiter);
    });
  }

  /**
   * Answers the server's `call(event, ...)` on a namespace (the client's own by default): `reply`
   * gets the call's arguments and its (awaited) return value becomes the ack.
   */
  onCall(event: string, reply: CallReply, options: { namespace?: string } = {}): this {
    const namespace = options.namespace ?? this.defaultNamespace;
    let handlers = this.calls.get(namespace);
    if (!handlers) this.calls.set(namespace, (handlers = new Map()));
    handlers.set(event, reply);
    return this;
  }

  /** True while the namespace (the client's own by default) is connected. */
  isConnected(namespace = this.defaultNamespace): boolean {
    return this.sockets.get(namespace)?.connected ?? false;
  }

  /**
   * Disconnects a namespace, or every namespace when none is given; resolves once the server ran
   * its disconnect handlers.
   */
  async disconnect(namespace?: string): Promise<void> {
    const names = namespace === undefined ? [...this.sockets.keys()] : [namespace];
    await Promise.all(names.map((name) => this.disconnectOne(name)));
  }

  /** Disconnects everything and stops the client for good (the app's close does it too). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.disconnect();
    this.manager.engine?.close();
    for (const hook of this.onClose.splice(0)) hook();
  }

  private async disconnectOne(namespace: string): Promise<void> {
    const socket = this.sockets.get(namespace);
    if (!socket?.connected) return;
    const server = this.probe.socket(namespace, socket.id!);
    const gone =
      server?.connected === true
        ? new Promise<void>((resolve) => server.once('disconnect', () => resolve()))
        : undefined;
    socket.disconnect();
    if (gone) {
      await gone;
      await settleTicks();
    }
  }

  /** Cookies may have changed since the last connection (an HTTP login): read them again. */
  private refreshHeaders(): void {
    if (this.manager.engine && this.manager.engine.readyState !== 'closed') return;
    const headers: Record<string, string> = { ...this.options.headers };
    const cookie = cookieHeader(this.options.cookie, this.options.url, this.options.path);
    if (cookie) headers.cookie = cookie;
    this.manager.opts.extraHeaders = headers;
  }

  private wire(socket: ClientSocket, namespace: string): void {
    socket.onAny((name: string, ...args: unknown[]) => {
      if (name === SETTLED) {
        this.settling.get(args[0] as number)?.();
        return;
      }
      const ack = typeof args[args.length - 1] === 'function' ? (args.pop() as Function) : null;
      // With connection state recovery the server appends its offset, as socket.io-client reads it.
      if (
        !ack &&
        (socket as unknown as { _pid?: string })._pid &&
        typeof args.at(-1) === 'string'
      ) {
        args.pop();
      }
      this.record(name, args, namespace);
      const reply = ack && this.calls.get(namespace)?.get(name);
      if (reply && ack) {
        void Promise.resolve()
          .then(() => reply(...args))
          .then((value) => (value === undefined ? ack() : ack(value)));
      }
    });
    socket.on('disconnect', () => {
      // A settle in progress waits for nothing more: the server dropped this client.
      for (const done of this.settling.values()) done();
    });
  }

  private record(name: string, args: unknown[], namespace: string): void {
    const entry: Entry = { name, args, namespace, waited: false };
    this.received.push(entry);
    for (const waiter of this.waiters) {
      if (waiter.name === name && waiter.namespace === namespace) {
        this.waiters.delete(waiter);
        entry.waited = true;
        waiter.resolve(args);
        return;
      }
    }
  }

  /**
   * Waits until the server received everything this client sent on `namespace`, let its handlers
   * run, then sends a marker: when the marker arrives, so did everything emitted before it.
   */
  private async settle(namespace: string, timeout: number): Promise<void> {
    const socket = this.sockets.get(namespace);
    if (!socket?.connected) return;
    const server = this.probe.socket(namespace, socket.id!);
    if (!server) {
      await settleTicks();
      return;
    }
    const id = ++this.settleSeq;
    let timer: NodeJS.Timeout | undefined;
    const arrived = new Promise<void>((resolve, reject) => {
      this.settling.set(id, resolve);
      timer = setTimeout(
        () => reject(new Error(`the server did not settle within ${timeout} ms`)),
        timeout,
      );
    });
    try {
      await Promise.race([serverReceived(server, this.sent.get(namespace) ?? 0), arrived]);
      await settleTicks();
      // A server that dropped the client sends no marker: the client's disconnect ends the wait.
      if (server.connected) server.emit(SETTLED, id);
      if (socket.connected) await arrived;
    } finally {
      clearTimeout(timer);
      this.settling.delete(id);
    }
  }
}
