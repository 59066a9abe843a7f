import type { IncomingMessage } from 'node:http';
import type { Namespace, Server, ServerOptions } from 'socket.io';
import { namespacesOf } from '../internals/socket-io.internals.js';
import { loadOptional } from '../load-optional.js';
import type {
  AdminUiOptions,
  CorsOrigin,
} from '../interfaces/socket-io-module-options.interface.js';

type Instrument = (server: Server, options: Record<string, unknown>) => void;
type AllowRequest = NonNullable<ServerOptions['allowRequest']>;
type OriginCallback = (err: Error | null, allow?: boolean | string) => void;

/** Where socket.io hosts the admin UI page. */
export const DEFAULT_ADMIN_UI_ORIGIN = 'https://admin.socket.io';
const DEFAULT_ADMIN_NAMESPACE = '/admin';
const BCRYPT_HASH = /^\$2[abxy]\$\d{2}\$[./A-Za-z0-9]{53}$/;

/** What is wrong with an `adminUi` option, or undefined; the option check names it. */
export function adminUiProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return 'must be an object: { auth: { username, password: <bcrypt hash> } | false, origin? }';
  }
  const o = value as Record<string, unknown>;
  if (o.auth !== false) {
    const auth = o.auth as Record<string, unknown> | undefined;
    if (!auth || typeof auth !== 'object' || typeof auth.username !== 'string' || !auth.username) {
      return 'auth must be { username, password } (password: a bcrypt hash), or false to disable it outside production';
    }
    if (typeof auth.password !== 'string' || !BCRYPT_HASH.test(auth.password)) {
      return 'auth.password must be a bcrypt hash (e.g. from bcryptjs.hashSync(password, 10)), never the password itself';
    }
  }
  if (
    o.namespace !== undefined &&
    (typeof o.namespace !== 'string' || !o.namespace.startsWith('/'))
  )
    return "namespace must be a string starting with '/'";
  if (o.origin !== undefined) {
    const list = ([] as unknown[]).concat(o.origin);
    if (!list.length || !list.every((x) => typeof x === 'string' || x instanceof RegExp)) {
      return 'origin must be an origin, a RegExp, or a list of them';
    }
  }
  if (o.mode !== undefined && o.mode !== 'development' && o.mode !== 'production') {
    return "mode must be 'development' or 'production'";
  }
  return undefined;
}

/**
 * The `adminUi` option: serves @socket.io/admin-ui's namespace with its own basic auth, and
 * lets the admin UI's origin through CORS for that namespace only. A browser on that origin
 * that the application's own CORS setting would refuse may open the admin namespace and no
 * other: its connection to any application namespace is refused.
 */
export class AdminUi {
  private instrument?: Instrument;
  private readonly namespace: string;
  private readonly origins: (string | RegExp)[];
  /** Handshake requests let in only because they come from the admin UI's origin. */
  private readonly adminOnly = new WeakSet<IncomingMessage>();

  constructor(private readonly options: AdminUiOptions) {
    this.namespace = options.namespace ?? DEFAULT_ADMIN_NAMESPACE;
    this.origins = ([] as (string | RegExp)[]).concat(options.origin ?? DEFAULT_ADMIN_UI_ORIGIN);
  }

  async load(): Promise<void> {
    const pkg = await loadOptional<{
      instrument?: Instrument;
      default?: { instrument: Instrument };
    }>('@socket.io/admin-ui', 'adminUi');
    this.instrument = pkg.instrument ?? pkg.default?.instrument;
  }

  /** The server options with the admin UI's origin allowed (CORS headers and the origin check). */
  serverOptions(options: Partial<ServerOptions>): Partial<ServerOptions> {
    const appAllow = options.allowRequest;
    const allowRequest: AllowRequest = (req, callback) => {
      const origin = req.headers.origin;
      const admin = origin !== undefined && this.isAdminOrigin(origin);
      if (!appAllow) return callback(null, true);
      appAllow(req, (err, allowed) => {
        if (allowed || !admin) return callback(err, allowed);
        this.adminOnly.add(req);
        callback(null, true);
      });
    };
    const cors = (options.cors ?? {}) as Record<string, unknown>;
    const appOrigin = options.cors ? cors.origin : undefined;
    return {
      ...options,
      allowRequest,
      cors: {
        ...cors,
        credentials: options.cors ? (cors.credentials as boolean | undefined) : true,
        origin: (origin: string | undefined, callback: OriginCallback) => {
          if (origin !== undefined && this.isAdminOrigin(origin)) return callback(null, origin);
          corsAllows(appOrigin, origin, callback);
        },
      },
    };
  }

  /** Keeps admin-only clients out of the application's namespaces, then serves the admin UI. */
  install(server: Server): void {
    const fence = (nsp: Namespace) => {
      if (nsp.name === this.namespace) return;
      nsp.use((socket, next) =>
        this.adminOnly.has(socket.request) ? next(new Error('Origin not allowed')) : next(),
      );
    };
    for (const nsp of namespacesOf(server)) fence(nsp);
    server.sockets.on('new_namespace' as never, fence);
    const { auth, readonly, mode, serverId } = this.options;
    this.instrument!(server, {
      namespaceName: this.namespace,
      auth: auth === false ? false : { type: 'basic', ...auth },
      readonly: readonly ?? false,
      mode: mode ?? (process.env.NODE_ENV === 'production' ? 'production' : 'development'),
      ...(serverId ? { serverId } : {}),
    });
  }

  private isAdminOrigin(origin: string): boolean {
    return this.origins.some((o) => (typeof o === 'string' ? o === origin : o.test(origin)));
  }
}

/** Answers the `cors` package's origin question with the application's own setting. */
function corsAllows(setting: unknown, origin: string | undefined, callback: OriginCallback): void {
  if (setting === undefined || origin === undefined) return callback(null, false);
  if (setting === '*' || setting === true) return callback(null, origin);
  if (typeof setting === 'function') return setting(origin, callback);
  const list = ([] as unknown[]).concat(setting as CorsOrigin);
  const ok = list.some((o) =>
    typeof o === 'string' ? o === origin : o instanceof RegExp && o.test(origin),
  );
  callback(null, ok ? origin : false);
}
