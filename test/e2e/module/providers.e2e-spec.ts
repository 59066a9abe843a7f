import { Injectable, type INestApplication } from '@nestjs/common';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { Test } from '@nestjs/testing';
import type { Socket } from 'socket.io';
import { afterEach, describe, expect, it } from 'vitest';
import { SocketIOModule, SocketService } from 'nest-socketio';
import { MessageQueue } from '../../../lib/queue/message-queue.interface.js';
import type { RemoteClients } from '../../../lib/queue/remote-clients.js';
import { SocketErrors } from '../../../lib/errors/socket-errors.js';
import { closeClients, connect } from '../../support/app.js';

// Each piece of the module is a provider: a test replaces one with overrideProvider and the
// rest of the module uses the replacement.

@WebSocketGateway()
class FailingGateway {
  @SubscribeMessage('fail')
  fail() {
    throw new Error('boom');
  }
}

let running: INestApplication | undefined;

async function start(
  override: (builder: ReturnType<typeof Test.createTestingModule>) => void,
): Promise<{ app: INestApplication; url: string }> {
  const builder = Test.createTestingModule({
    imports: [SocketIOModule.forRoot({ logger: false })],
    providers: [FailingGateway],
  });
  override(builder);
  const app = (await builder.compile()).createNestApplication({ logger: false });
  running = app;
  await app.listen(0, '127.0.0.1');
  return { app, url: (await app.getUrl()).replace('[::1]', '127.0.0.1') };
}

afterEach(async () => {
  closeClients();
  await running?.close();
  running = undefined;
});

describe("the module's providers", () => {
  it('overrideProvider(MessageQueue): SocketService reaches other processes through it', async () => {
    const calls: string[] = [];
    const remote: RemoteClients = {
      join: async (namespace, sid, room) => void calls.push(`join ${namespace} ${sid} ${room}`),
      leave: async () => undefined,
      rooms: async (_namespace, sid) => [sid, 'elsewhere'],
      disconnect: async () => undefined,
      settle: async () => undefined,
    };
    let closed = false;
    const queue: MessageQueue = {
      remoteClients: () => remote,
      close: async () => void (closed = true),
    };
    const { app } = await start((b) => b.overrideProvider(MessageQueue).useValue(queue));
    const sockets = app.get(SocketService);
    await sockets.joinRoom('lobby', { sid: 'on-another-process' });
    expect(calls).toEqual(['join / on-another-process lobby']);
    expect(await sockets.rooms({ sid: 'far' })).toEqual(['far', 'elsewhere']);
    await app.close();
    expect(closed).toBe(true);
  });

  it('overrideProvider(SocketErrors): every error reply comes from the replacement', async () => {
    @Injectable()
    class TeapotErrors {
      async respond(err: unknown, _socket: Socket, ack?: (reply: unknown) => void) {
        ack?.({ teapot: (err as Error).message });
      }
    }
    const { url } = await start((b) => b.overrideProvider(SocketErrors).useClass(TeapotErrors));
    const client = await connect(url);
    expect(await client.timeout(4000).emitWithAck('fail')).toEqual({ teapot: 'boom' });
  });
});
