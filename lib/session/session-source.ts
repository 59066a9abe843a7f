import type { IncomingMessage } from 'node:http';
import type { LoggerService } from '@nestjs/common';
import type { Socket } from 'socket.io';
import { setConnectionSession } from '../context/socket-context.storage.js';
import type { RecoveredSessions } from './recovered-sessions.js';
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
  /** The store had the session at connect: once it is gone, it was destroyed (logout). */
  readonly existed: boolean;
  /** The end of the last event's read-modify-save: the next one starts after it. */
  turn: Promise<void>;
}

/** A session read for one event, and whether it may be saved. */
export interface LoadedSession {
  session: SessionObject;
  /** False for a session destroyed since connect: saving it would bring it back. */
  saveable: boolean;
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
  recovered?: RecoveredSessions,
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
    const sessionId = typeof req?.sessionID === 'string' ? req.sessionID : undefined;
    const kept = recovered?.take(socket, sessionId);
    setConnectionSession(socket, kept ?? plainSessionData(req?.session));
    recovered?.watch(socket, sessionId);
    if (managed || !req?.session || !req.sessionStore || typeof req.sessionID !== 'string') return;
    const store = req.sessionStore;
    const id = req.sessionID;
    const source: SessionSource = {
      store,
      id,
      cookie: JSON.parse(JSON.stringify(req.session.cookie ?? {})),
      request: socket.request,
      existed: await new Promise<boolean>((resolve) =>
        store.get(id, (err, data) => resolve(!err && data != null)),
      ),
      turn: Promise.resolve(),
    };
    (socket as unknown as { [SOURCE]?: SessionSource })[SOURCE] = source;
    // A session made for this connection (no cookie named one) has an id no client holds: once
    // the connection ends nothing can reach it, so it leaves the store then.
    if (!source.existed && typeof store.destroy === 'function') {
      socket.once('disconnect', () => {
        void source.turn.then(() => store.destroy!(id, () => undefined));
      });
    }
  };
}

/**
 * Reads the session afresh from the store; an empty one (same id) when the store has none, which
 * may not be saved when the store had it at connect (it was destroyed since).
 */
export function loadSession(source: SessionSource): Promise<LoadedSession> {
  return new Promise((resolve, reject) => {
    source.store.get(source.id, (err, data) => {
      if (err && (err as { code?: string }).code !== 'ENOENT') return reject(err);
      const saveable = data != null || !source.existed;
      const req = Object.create(source.request, {
        session: { value: undefined, writable: true, configurable: true },
        sessionID: { value: source.id, configurable: true },
        sessionStore: { value: source.store, configurable: true },
      }) as object;
      try {
        const session = source.store.createSession(req, data ?? { cookie: { ...source.cookie } });
        resolve({ session, saveable });
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
