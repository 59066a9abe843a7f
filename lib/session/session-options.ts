import type { SocketIOModuleOptions } from '../interfaces/socket-io-module-options.interface.js';
import { InvalidSocketIOOptionError } from '../socket-io.options.js';
import { runSessionMiddleware, type SessionStoreLike } from './session-middleware.js';

/** Fails at start-up on session options that cannot work together. */
export function checkSessionOptions(options: SocketIOModuleOptions): void {
  if (options.manageSession === false && !options.session) {
    throw new InvalidSocketIOOptionError(
      'manageSession',
      'is false, which shares the HTTP session with sockets, but no "session" option (an express-session middleware) was given: add session: expressSession({...}) with the same middleware your HTTP app uses, or remove manageSession: false',
    );
  }
}

/**
 * The store behind a session middleware, found by running it on a request without a cookie
 * (express-session exposes its store as `req.sessionStore` and saves nothing until the response
 * ends, which never happens here). Undefined when the middleware is not express-session.
 */
export async function sessionStoreOf(
  middleware: NonNullable<SocketIOModuleOptions['session']>,
): Promise<SessionStoreLike | undefined> {
  try {
    const req = await runSessionMiddleware(middleware, {
      url: '/',
      method: 'GET',
      headers: {},
      connection: {},
      socket: {},
    });
    return req.sessionStore;
  } catch {
    return undefined;
  }
}
