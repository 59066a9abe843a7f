import session, { type Store } from 'express-session';
import type { SessionMiddleware, SocketContext } from 'nest-socketio';

declare module 'express-session' {
  interface SessionData {
    /** The name the visitor logged in with (POST /api/login). */
    user?: string;
  }
}

/** The one express-session middleware both HTTP and Socket.IO read the session cookie with. */
export function createSessionMiddleware(
  options: { store?: Store; secret?: string } = {},
): SessionMiddleware {
  const secret = options.secret ?? process.env.SESSION_SECRET;
  if (!secret && process.env.NODE_ENV === 'production') {
    throw new Error(
      'Set SESSION_SECRET: the built-in session secret is for trying the sample only',
    );
  }
  return session({
    name: 'chat.sid',
    secret: secret ?? 'sample-only-secret-change-me',
    store: options.store,
    resave: false,
    saveUninitialized: false,
    cookie: { httpOnly: true, sameSite: 'lax' },
  });
}

/**
 * The logged-in user of the current socket. The module ran the session middleware on the
 * handshake (its `session` option), so the socket's session holds what the HTTP login wrote.
 */
export function currentUser(ctx: SocketContext): string | undefined {
  const user = ctx.session.user;
  return typeof user === 'string' ? user : undefined;
}
