import type { IncomingMessage } from 'node:http';
import type { LoggerService } from '@nestjs/common';
import type { Socket } from 'socket.io';
import { setConnectionSession } from '../context/socket-context.storage.js';
import type { SessionMiddleware } from '../interfaces/socket-io-module-options.interface.js';
import {
  plainSessionData,
  runSessionMiddleware,
  type SessionObject,
  type SessionRequest,
  type SessionStoreLike,
} from './session-middleware.js';

/** Where a connection's HTTP session lives: the store and the id its cookie named at connect. */
export interface SessionSource {
  readonly store: SessionStoreLike;
  readonly id: string;
  /** The session cookie's settings at connect, for a session that is not in the store yet. */
  readonly cookie: Record<string, unknown>;
  readonly request: IncomingMessage;
}

const SOURCE = Symbol('nest-socketio:session-source');

/** The session source recorded for a socket at connect (unmanaged sessions only). */
export function sessionSourceOf(socket: Socket): SessionSource | undefined {
  return (socket as unknown as { [SOURCE]?: SessionSource })[SOURCE];
}

/**
 * The handshake step of the `session` option: runs the session middleware on the handshake
 * request, so the cookie of the page that opened the socket finds its session, and gives the
 * connection its copy. A missing, forged, unsigned or expired cookie gives an empty session; a
 * store that fails is logged and also gives an empty session (a guard may still refuse).
 */
export function sessionHandshake(
  middleware: SessionMiddleware,
  managed: boolean,
  logger: LoggerService,
): (socket: Socket) => Promise<void> {
  return async (socket) => {
    let req: SessionRequest | undefined;
    try {
      req = await runSessionMiddleware(middleware, socket.request);
    } catch (err) {
      logger.warn?.(
        `The session of client ${socket.id} could not be loaded: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    setConnectionSession(socket, plainSessionData(req?.session));
    if (managed || !req?.session || !req.sessionStore || typeof req.sessionID !== 'string') return;
    const source: SessionSource = {
      store: req.sessionStore,
      id: req.sessionID,
      cookie: JSON.parse(JSON.stringify(req.session.cookie ?? {})),
      request: socket.request,
    };
    (socket as unknown as { [SOURCE]?: SessionSource })[SOURCE] = source;
  };
}

/** Reads the session afresh from the store; an empty one (same id) when the store has none. */
export function loadSession(source: SessionSource): Promise<SessionObject> {
  return new Promise((resolve, reject) => {
    source.store.get(source.id, (err, data) => {
      if (err && (err as { code?: string }).code !== 'ENOENT') return reject(err);
      const req = Object.create(source.request, {
        session: { value: undefined, writable: true, configurable: true },
        sessionID: { value: source.id, configurable: true },
        sessionStore: { value: source.store, configurable: true },
      }) as object;
      try {
        resolve(source.store.createSession(req, data ?? { cookie: { ...source.cookie } }));
      } catch (createError) {
        reject(createError);
      }
    });
  });
}

/** Writes a session back to its store. */
export function saveSession(session: SessionObject): Promise<void> {
  return new Promise((resolve, reject) => {
    if (typeof session.save !== 'function') return resolve();
    session.save((err) => (err ? reject(err) : resolve()));
  });
}
