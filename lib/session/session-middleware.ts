import type { IncomingMessage } from 'node:http';
import type { SessionMiddleware } from '../interfaces/socket-io-module-options.interface.js';

/** The parts of an express-session store the module uses. */
export interface SessionStoreLike {
  get(id: string, callback: (err: unknown, session?: Record<string, any> | null) => void): void;
  set(id: string, session: Record<string, any>, callback?: (err?: unknown) => void): void;
  createSession(req: object, session: Record<string, any>): SessionObject;
  destroy?(id: string, callback?: (err?: unknown) => void): void;
}

/** An express-session `Session`: the data, plus `save()` and friends on its prototype. */
export type SessionObject = Record<string, any> & { save?(cb: (err?: unknown) => void): void };

/** A request as express-session leaves it. */
export interface SessionRequest {
  session?: SessionObject;
  sessionID?: string;
  sessionStore?: SessionStoreLike;
}

/**
 * A response that is never sent: express-session wraps `end`, `write` and `writeHead` to set its
 * cookie and save on the way out, and a socket handshake never answers through it, so nothing is
 * saved and no cookie is set.
 */
function fakeResponse(): Record<string, unknown> {
  return {
    end() {},
    write() {},
    writeHead() {},
    setHeader() {},
    getHeader() {},
    removeHeader() {},
    on() {},
    once() {},
    emit() {},
  };
}

/**
 * Runs the session middleware on a private view of `request` (which may be shared by several
 * namespaces and events): the middleware sees its headers and URL but writes `session`,
 * `sessionID` and `sessionStore` on the view only.
 */
export function runSessionMiddleware(
  middleware: SessionMiddleware,
  request: IncomingMessage | Record<string, unknown>,
): Promise<SessionRequest> {
  const view = requestView(request) as SessionRequest;
  return new Promise((resolve, reject) => {
    try {
      middleware(view, fakeResponse(), (err?: unknown) => (err ? reject(err) : resolve(view)));
    } catch (err) {
      reject(err);
    }
  });
}

/**
 * Reads fall through to `request`, writes stay on the view. A proxy rather than
 * `Object.create(request)`: V8 gives an object used as a prototype a hidden class of its own,
 * which kept about 1 KB per connection alive for as long as the socket holds its request.
 */
function requestView(request: object): object {
  const own: Record<PropertyKey, unknown> = { session: undefined, sessionID: undefined };
  return new Proxy(request, {
    get: (target, key) => (Object.hasOwn(own, key) ? own[key] : Reflect.get(target, key)),
    set: (_target, key, value) => {
      own[key] = value;
      return true;
    },
    has: (target, key) => Object.hasOwn(own, key) || Reflect.has(target, key),
    deleteProperty: (_target, key) => delete own[key],
    defineProperty: (_target, key, descriptor) => Reflect.defineProperty(own, key, descriptor),
  });
}

/** The session's data as a plain object, without express-session's `cookie`. */
export function plainSessionData(session: SessionObject | undefined): Record<string, unknown> {
  if (!session) return {};
  const { cookie: _cookie, ...data } = JSON.parse(JSON.stringify(session)) as Record<
    string,
    unknown
  >;
  return data;
}
