import { Body, Controller, Get, Injectable, Post, Req, type CanActivate } from '@nestjs/common';
import { MessageBody, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { EventName, SocketContext, SocketSession, UseConnectionGuards } from 'nest-socketio';

/** The session's data as a client sees it (express-session's cookie left out). */
export function data(session: Record<string, unknown> | undefined): Record<string, unknown> {
  const { cookie: _cookie, ...rest } = JSON.parse(JSON.stringify(session ?? {}));
  return rest;
}

/** HTTP side: log in, read and change the session. */
@Controller('session')
export class SessionController {
  @Post('login')
  login(@Req() req: any, @Body() body: { user: string }) {
    req.session.user = body.user;
    return { ok: true };
  }

  /** Logs in with a session whose cookie has already expired. */
  @Post('login-expired')
  loginExpired(@Req() req: any, @Body() body: { user: string }) {
    req.session.user = body.user;
    req.session.cookie.expires = new Date(Date.now() - 60_000);
    return { ok: true };
  }

  @Get()
  get(@Req() req: any) {
    return data(req.session);
  }

  @Post('logout')
  logout(@Req() req: any) {
    return new Promise((resolve) => req.session.destroy(() => resolve({ ok: true })));
  }

  @Post('set')
  set(@Req() req: any, @Body() body: Record<string, unknown>) {
    Object.assign(req.session, body);
    return data(req.session);
  }
}

/** Socket side: the same through `@SocketSession()` and `SocketContext.session`. */
@WebSocketGateway()
export class SessionGateway {
  constructor(private readonly ctx: SocketContext) {}

  @SubscribeMessage('get')
  get(@SocketSession() session: Record<string, unknown>) {
    return data(session);
  }

  @SubscribeMessage('set')
  set(@SocketSession() session: Record<string, unknown>, @MessageBody() body: object) {
    Object.assign(session, body);
    return data(session);
  }

  /** Any other event: a catch-all handler sees the same session. */
  @SubscribeMessage('*')
  any(@EventName() name: string, @SocketSession() session: Record<string, unknown>) {
    session.last = name;
    return data(session);
  }

  /** A read-modify-write with a wait in between: concurrent calls must not lose updates. */
  @SubscribeMessage('incr')
  async incr(@SocketSession() session: Record<string, unknown>) {
    const n = Number(session.n ?? 0);
    await new Promise((resolve) => setImmediate(resolve));
    session.n = n + 1;
    return session.n;
  }

  @SubscribeMessage('set-later')
  async setLater(@MessageBody() body: object) {
    await new Promise((resolve) => setImmediate(resolve));
    Object.assign(this.ctx.session, body);
    return data(this.ctx.session);
  }
}

/** Lets in only clients whose session has a user (the session is loaded before guards run). */
@Injectable()
export class LoggedInGuard implements CanActivate {
  constructor(private readonly ctx: SocketContext) {}
  canActivate(): boolean {
    return typeof this.ctx.session.user === 'string';
  }
}

@UseConnectionGuards(LoggedInGuard)
@WebSocketGateway({ namespace: '/private' })
export class PrivateGateway {
  @SubscribeMessage('who')
  who(@SocketSession() session: Record<string, unknown>) {
    return session.user;
  }
}
