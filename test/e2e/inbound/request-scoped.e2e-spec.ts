import { Injectable, Scope, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { MessageBody, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import type { Socket } from 'socket.io';
import { afterEach, describe, expect, it } from 'vitest';
import { SocketIOModule, UseConnectionGuards } from 'nest-socketio';
import { client, closeClients, connect, next, startApp } from '../../support/app.js';

@Injectable()
class TokenGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    return context.switchToWs().getData()?.token === 'letmein';
  }
}

let built = 0;

// One instance per connection (Nest 12): Nest's own flow builds it and calls handleConnection.
@Injectable({ scope: Scope.REQUEST })
@UseConnectionGuards(TokenGuard)
@WebSocketGateway({ namespace: '/scoped' })
class ScopedGateway {
  readonly id = ++built;
  connected?: string;

  handleConnection(socket: Socket) {
    this.connected = socket.id;
  }

  @SubscribeMessage('whoami')
  whoami(@MessageBody() data: unknown) {
    return { instance: this.id, connected: this.connected, data };
  }
}

describe('request-scoped gateways', () => {
  afterEach(() => closeClients());

  it('keep their connection guards, run before the client is accepted', async () => {
    const { app, url } = await startApp({
      imports: [SocketIOModule.forRoot()],
      providers: [ScopedGateway, TokenGuard],
    });
    try {
      const refused = client(`${url}/scoped`, { auth: { token: 'wrong' } });
      expect((await next<Error>(refused, 'connect_error')).message).toBe(
        'Connection rejected by server',
      );

      const a = await connect(`${url}/scoped`, { auth: { token: 'letmein' } });
      const b = await connect(`${url}/scoped`, { auth: { token: 'letmein' } });
      const fromA = (await a.emitWithAck('whoami', 1)) as { instance: number; data: number };
      const fromB = (await b.emitWithAck('whoami', 2)) as { instance: number; data: number };
      expect(fromA.data).toBe(1);
      expect(fromB.data).toBe(2);
      expect(fromA.instance).not.toBe(fromB.instance);
    } finally {
      await app.close();
    }
  });
});
