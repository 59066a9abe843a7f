import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import session, { type Store } from 'express-session';
import { SocketService, type SessionMiddleware, type SocketContext } from 'nest-socketio';

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
  return session({
    name: 'chat.sid',
    secret: options.secret ?? process.env.SESSION_SECRET ?? 'sample-only-secret-change-me',
    store: options.store,
    resave: false,
    saveUninitialized: false,
    cookie: { httpOnly: true, sameSite: 'lax' },
  });
}

/** The logged-in user of the current socket, from the session the HTTP login wrote. */
export function currentUser(ctx: SocketContext): string | undefined {
  const fromSession = ctx.session.user;
  if (typeof fromSession === 'string') return fromSession;
  // TEMPORARY, with SessionHandshakeBridge: until the module's `session` option lands.
  return (ctx.socket.request as { session?: { user?: string } }).session?.user;
}

export const SESSION_MIDDLEWARE = 'SAMPLE_CHAT:SESSION_MIDDLEWARE';

/** TEMPORARY: runs the session middleware on Engine.IO requests until the module does it. */
@Injectable()
export class SessionHandshakeBridge implements OnModuleInit {
  constructor(
    private readonly sockets: SocketService,
    @Inject(SESSION_MIDDLEWARE) private readonly middleware: SessionMiddleware,
  ) {}

  onModuleInit(): void {
    this.sockets.server.engine.use(this.middleware);
  }
}
