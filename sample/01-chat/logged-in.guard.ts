import { Injectable, type CanActivate } from '@nestjs/common';
import { ConnectionRefusedError, SocketContext } from 'nest-socketio';
import { currentUser } from './session.js';

/**
 * Connection guard: only visitors who logged in over HTTP get a socket. The refusal reaches the
 * browser as `connect_error` with this message and data.
 */
@Injectable()
export class LoggedInGuard implements CanActivate {
  constructor(private readonly ctx: SocketContext) {}

  canActivate(): boolean {
    const user = currentUser(this.ctx);
    if (!user) throw new ConnectionRefusedError('Log in first', { status: 401 });
    (this.ctx.socket.data as { user?: string }).user = user;
    return true;
  }
}
