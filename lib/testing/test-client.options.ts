/** An HTTP test agent with a cookie jar (supertest's `request.agent(server)`, superagent's agent). */
export interface CookieJarAgent {
  jar: {
    getCookies(access: { domain: string; path: string; secure: boolean; script: boolean }): {
      toValueString(): string;
    };
  };
}

/** Options of `createTestClient()`. */
export interface TestClientOptions {
  /**
   * The namespace to connect to, and the default of every method's `namespace`.
   * @default '/'
   */
  namespace?: string;
  /** The `auth` payload of the handshake (`socket.handshake.auth` on the server). */
  auth?: Record<string, unknown>;
  /** Query parameters of the handshake (`socket.handshake.query`). */
  query?: Record<string, string>;
  /** Extra HTTP headers of the handshake (`socket.handshake.headers`). */
  headers?: Record<string, string>;
  /**
   * Cookies of the handshake: a `Cookie` header value, name/value pairs, or an HTTP test agent
   * (supertest's `request.agent(app.getHttpServer())`) whose cookie jar is read at each connect,
   * so a session made by an HTTP login carries into the socket.
   */
  cookie?: string | Record<string, string> | CookieJarAgent;
  /**
   * The Socket.IO path.
   * @default the `SocketIOModule` `path` option, else '/socket.io'
   */
  path?: string;
  /**
   * Transports the client may use.
   * @default ['websocket']
   */
  transports?: ('websocket' | 'polling')[];
  /**
   * Milliseconds `connect`, acked emits, `waitFor` and the settling of plain emits wait.
   * @default 5000
   */
  timeout?: number;
  /**
   * Connect `namespace` before `createTestClient()` resolves.
   * @default true
   */
  autoConnect?: boolean;
}

/** Options of `SocketIOTestClient.connect()`. */
export interface TestConnectOptions {
  /** The `auth` payload for this namespace (defaults to the client's `auth`). */
  auth?: Record<string, unknown>;
}

/** Options of `SocketIOTestClient.emit()` and `send()`. */
export interface TestEmitOptions {
  /** The namespace to emit on (defaults to the client's namespace). */
  namespace?: string;
  /** Ask for an acknowledgement and resolve with it. */
  ack?: boolean;
  /** Milliseconds to wait for the ack (or for the server to settle). */
  timeout?: number;
}

/** Options of `SocketIOTestClient.waitFor()`. */
export interface TestWaitOptions {
  /** The namespace the event must arrive on (defaults to the client's namespace). */
  namespace?: string;
  /** Milliseconds to wait before rejecting. */
  timeout?: number;
}

/** An event the client received, as `getReceived()` returns it. */
export interface ReceivedEvent {
  name: string;
  args: unknown[];
  namespace: string;
}

/** Answers a server's `call()`: its return value (or resolved value) becomes the ack. */
export type CallReply = (...args: unknown[]) => unknown;
