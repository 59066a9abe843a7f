import { Module, type INestApplication, type LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  AbstractWsAdapter,
  MessageBody,
  SubscribeMessage,
  WebSocketGateway,
  type MessageMappingProperties,
} from '@nestjs/websockets';
import type { Observable } from 'rxjs';
import { Server, type ServerOptions, type Socket as ServerSocket } from 'socket.io';
import { io, type Socket } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { SocketIOModule } from 'nest-socketio';

@WebSocketGateway()
class EchoGateway {
  @SubscribeMessage('echo')
  echo(@MessageBody() data: unknown) {
    return data;
  }
}

/**
 * A hand-written Socket.IO adapter, as a user might have from Nest's docs (Nest's own IoAdapter
 * would load the socket.io copy @nestjs/platform-socket.io pins, which the install check refuses).
 */
class PlainIoAdapter extends AbstractWsAdapter {
  create(_port: number, options?: Partial<ServerOptions>): Server {
    return new Server(this.httpServer, options);
  }

  bindMessageHandlers(
    socket: ServerSocket,
    handlers: MessageMappingProperties[],
    transform: (data: unknown) => Observable<unknown>,
  ): void {
    for (const { message, callback } of handlers) {
      socket.on(message as string, (data: unknown, ack?: (reply: unknown) => void) => {
        transform(callback(data, ack)).subscribe((reply) => ack?.(reply));
      });
    }
  }
}

/** A logger that keeps what the module warns about. */
function warnings(): { logger: LoggerService; seen: string[] } {
  const seen: string[] = [];
  return {
    seen,
    logger: {
      log() {},
      error() {},
      debug() {},
      verbose() {},
      warn: (m: unknown) => seen.push(String(m)),
    },
  };
}

const apps: INestApplication[] = [];
const clients: Socket[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.disconnect();
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

async function start(logger: LoggerService, replace: boolean): Promise<string> {
  @Module({ imports: [SocketIOModule.forRoot({ logger })], providers: [EchoGateway] })
  // oxlint-disable-next-line typescript/no-extraneous-class -- a Nest module is a decorated empty class
  class AppModule {}
  const app = await NestFactory.create(AppModule, { logger: false, abortOnError: false });
  apps.push(app);
  if (replace) app.useWebSocketAdapter(new PlainIoAdapter(app));
  await app.listen(0, '127.0.0.1');
  return app.getUrl();
}

describe('an app that replaces the module adapter with app.useWebSocketAdapter()', () => {
  it('gets a start-up warning that names the adapter and says what to remove', async () => {
    const { logger, seen } = warnings();
    const url = await start(logger, true);
    expect(seen).toEqual([
      expect.stringContaining(
        'app.useWebSocketAdapter(PlainIoAdapter) replaced the adapter of SocketIOModule',
      ),
    ]);
    expect(seen[0]).toContain('Remove the useWebSocketAdapter() call');
    // The gateway still runs, on the replacing adapter.
    const socket = io(url, { transports: ['websocket'], reconnection: false });
    clients.push(socket);
    expect(await socket.timeout(5000).emitWithAck('echo', 'still here')).toBe('still here');
  });

  it('gets no warning when the module adapter stays', async () => {
    const { logger, seen } = warnings();
    await start(logger, false);
    expect(seen).toEqual([]);
  });
});
