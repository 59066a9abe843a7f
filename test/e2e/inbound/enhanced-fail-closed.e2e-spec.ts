import {
  Catch,
  Injectable,
  Scope,
  UseFilters,
  UseGuards,
  type ArgumentsHost,
  type CanActivate,
  type ExceptionFilter,
} from '@nestjs/common';
import {
  ConnectedSocket,
  SubscribeMessage,
  WebSocketGateway,
  WsException,
} from '@nestjs/websockets';
import type { Socket } from 'socket.io';
import type { Socket as ClientSocket } from 'socket.io-client';
import { describe, expect, it } from 'vitest';
import { SocketIOModule } from 'nest-socketio';
import { appWithClient, closeClients, connect, startApp } from '../../support/app.js';

// What a compiled chain does not understand keeps Nest's own chain: the handler still works, and
// (Nest's chain being asynchronous) its ack comes after work it queued, where a compiled chain
// acks at once.

@Injectable()
class AllowGuard implements CanActivate {
  canActivate() {
    return true;
  }
}

@Injectable({ scope: Scope.REQUEST })
class ScopedGuard implements CanActivate {
  canActivate() {
    return true;
  }
}

@Catch()
class OwnFilter implements ExceptionFilter {
  catch(error: Error, host: ArgumentsHost) {
    host.getArgByIndex<(reply: unknown) => void>(2)({ own: error.message });
  }
}

function queueAndAck(client: Socket) {
  queueMicrotask(() => client.emit('later'));
  return 'ack';
}

@UseGuards(AllowGuard)
@WebSocketGateway()
class ClosedGateway {
  @SubscribeMessage('compiled') compiled(@ConnectedSocket() client: Socket) {
    return queueAndAck(client);
  }
  @UseFilters(OwnFilter) @SubscribeMessage('own-filter') ownFilter(
    @ConnectedSocket() client: Socket,
  ) {
    return queueAndAck(client);
  }
  @UseFilters(OwnFilter) @SubscribeMessage('own-filter-throws') ownFilterThrows() {
    throw new WsException('answered by the filter');
  }
}

/** Its guard makes the gateway request-scoped in Nest's eyes (and so every handler of the app). */
@WebSocketGateway()
class ScopedGateway {
  @UseGuards(ScopedGuard) @SubscribeMessage('scoped-guard') scoped(
    @ConnectedSocket() client: Socket,
  ) {
    return queueAndAck(client);
  }
}

describe('compiled chains fail closed', () => {
  const started = appWithClient({
    imports: [SocketIOModule.forRoot()],
    providers: [ClosedGateway],
  });

  it('compiles a handler with a guard (it acks before queued work)', async () => {
    expect(await ackAndQueued(started.client, 'compiled')).toEqual(['ack', 'later']);
  });

  it("keeps Nest's chain for a handler with an exception filter of the user's", async () => {
    expect(await ackAndQueued(started.client, 'own-filter')).toEqual(['later', 'ack']);
    expect(await started.client.timeout(3000).emitWithAck('own-filter-throws')).toEqual({
      own: 'answered by the filter',
    });
  });
});

describe('compiled chains with a request-scoped guard', () => {
  it("keep Nest's chain", async () => {
    const { app, url } = await startApp({
      imports: [SocketIOModule.forRoot()],
      providers: [ScopedGateway],
    });
    try {
      const c = await connect(url);
      expect(await ackAndQueued(c, 'scoped-guard')).toEqual(['later', 'ack']);
    } finally {
      closeClients();
      await app.close();
    }
  });
});

async function ackAndQueued(c: ClientSocket, event: string): Promise<string[]> {
  const order: string[] = [];
  const later = new Promise<void>((resolve) =>
    c.once('later', () => resolve(void order.push('later'))),
  );
  // A callback, not emitWithAck: its promise would record the ack a microtask late.
  const acked = new Promise<void>((resolve) =>
    c.timeout(3000).emit(event, (_err: unknown, value: string) => resolve(void order.push(value))),
  );
  await Promise.all([later, acked]);
  return order;
}
