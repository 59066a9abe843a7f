import type { CallHandler, ExecutionContext, NestInterceptor, Type } from '@nestjs/common';
import { concatMap, from, mergeMap, type Observable } from 'rxjs';
import type { Socket } from 'socket.io';
import { SocketCallFrame } from '../context/socket-context.storage.js';
import { INTERCEPTORS_METADATA } from '../internals/nest.internals.js';
import { loadSession, saveSession, sessionSourceOf } from './session-source.js';

/**
 * `manageSession: false`: before each event the session is read afresh from the store (so a
 * change made over HTTP is seen), and after the handler it is saved when it changed (so HTTP
 * sees what the handler wrote). Holds no state: the store and session id travel on the socket,
 * so one instance serves every application in the process, and gateways of an application with
 * managed sessions pass straight through.
 */
export class SessionInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const socket = context.switchToWs().getClient<Socket>();
    const frame = context.getArgByIndex<unknown>(4);
    const source = socket && sessionSourceOf(socket);
    if (!source || !(frame instanceof SocketCallFrame)) return next.handle();
    return from(loadSession(source)).pipe(
      mergeMap((session) => {
        frame.session = session;
        let saved = JSON.stringify(session);
        return next.handle().pipe(
          concatMap(async (value) => {
            const now = JSON.stringify(session);
            if (now !== saved) {
              await saveSession(session);
              saved = now;
            }
            return value;
          }),
        );
      }),
    );
  }
}

/** The one instance put on gateways. */
export const sessionInterceptor = new SessionInterceptor();

/**
 * Puts the session interceptor first on every gateway class, before Nest builds their handlers
 * (called only with `manageSession: false`, so managed sessions cost nothing per event).
 */
export function applySessionInterceptor(gatewayClasses: Type[]): void {
  for (const metatype of gatewayClasses) {
    const interceptors: unknown[] = Reflect.getMetadata(INTERCEPTORS_METADATA, metatype) ?? [];
    if (interceptors.includes(sessionInterceptor)) continue;
    Reflect.defineMetadata(INTERCEPTORS_METADATA, [sessionInterceptor, ...interceptors], metatype);
  }
}
