import {
  Injectable,
  UseGuards,
  type CanActivate,
  type ExecutionContext,
  type INestApplication,
} from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import session from 'express-session';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SocketContext, SocketIOModule, SocketSession } from 'nest-socketio';
import { closeClients, connect } from '../../support/app.js';
import { NEST_MAJOR } from '../../support/nest-version.js';
import { http, startSessionApp } from '../../support/session-app.js';
import { data, SessionController } from '../../support/session-fixtures.js';

/** Lets an event through only when the session, as the store holds it now, says admin. */
@Injectable()
class AdminGuard implements CanActivate {
  constructor(private readonly ctx: SocketContext) {}

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'ws') return true;
    return this.ctx.session.role === 'admin';
  }
}

// Nest 12 runs global guards on gateways; Nest 11 does not, so there the guard sits on the class.
@UseGuards(...(NEST_MAJOR >= 12 ? [] : [AdminGuard]))
@WebSocketGateway()
class AdminGateway {
  @SubscribeMessage('admin')
  admin(@SocketSession() s: Record<string, unknown>) {
    s.visits = Number(s.visits ?? 0) + 1;
    return data(s);
  }

  @SubscribeMessage('boom')
  boom(@SocketSession() s: Record<string, unknown>) {
    s.half = 'written';
    throw new Error('boom');
  }
}

describe('manageSession: false: guards see the session as the store holds it now', () => {
  let app: INestApplication;
  let url: string;
  beforeAll(async () => {
    const middleware = session({ secret: 'guards', resave: false, saveUninitialized: false });
    ({ app, url } = await startSessionApp(
      {
        imports: [SocketIOModule.forRoot({ session: middleware, manageSession: false })],
        providers: [
          AdminGateway,
          AdminGuard,
          ...(NEST_MAJOR >= 12 ? [{ provide: APP_GUARD, useClass: AdminGuard }] : []),
        ],
        controllers: [SessionController],
      },
      middleware,
    ));
  });
  afterAll(() => app.close());
  afterEach(() => closeClients());

  it('a guard sees a value written over HTTP after the socket connected', async () => {
    const { cookie } = await http(url, '/session/login', { body: { user: 'ann' } });
    const c = await connect(url, { extraHeaders: { cookie: cookie! } });
    // Refused while the session says nothing: and the refusal ends the socket's session turn.
    expect(await c.emitWithAck('admin')).toEqual({
      error: { status: 403, message: 'Forbidden resource' },
    });
    await http(url, '/session/set', { cookie, body: { role: 'admin' } });
    expect(await c.emitWithAck('admin')).toEqual({
      user: 'ann',
      role: 'admin',
      visits: 1,
    });
    // The handler's change was saved before the answer, as without guards.
    expect((await http(url, '/session', { cookie })).json).toEqual({
      user: 'ann',
      role: 'admin',
      visits: 1,
    });
    // A handler that throws ends the turn without a save: the next event still runs.
    expect(await c.emitWithAck('boom')).toEqual({
      error: { status: 500, message: 'Internal server error' },
    });
    expect(await c.emitWithAck('admin')).toEqual({ user: 'ann', role: 'admin', visits: 2 });
    await http(url, '/session/set', { cookie, body: { role: 'guest' } });
    expect(await c.emitWithAck('admin')).toMatchObject({ error: { status: 403 } });
  });
});
