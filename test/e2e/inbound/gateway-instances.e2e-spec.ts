import type { INestApplication } from '@nestjs/common';
import {
  WebSocketGateway,
  type OnGatewayConnection,
  type OnGatewayDisconnect,
} from '@nestjs/websockets';
import type { Socket } from 'socket.io';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SocketIOModule } from 'nest-socketio';
import { closeClients, connect, startApp } from '../../support/app.js';
import { disconnected } from '../../support/client-events.js';
import { NEST_MAJOR } from '../../support/nest-version.js';

// The module runs handleConnection before a client is accepted, yet leaves the gateway instance
// as the user wrote it: a unit test that calls its methods directly runs the user's code.

@WebSocketGateway()
class CountingGateway implements OnGatewayConnection, OnGatewayDisconnect {
  readonly connected: string[] = [];
  readonly disconnected: string[] = [];

  handleConnection(client: Socket) {
    this.connected.push(client.id);
  }

  handleDisconnect(client: Socket) {
    this.disconnected.push(client.id);
  }
}

describe('gateway instances', () => {
  let app: INestApplication;
  let url: string;
  let gateway: CountingGateway;

  beforeAll(async () => {
    ({ app, url } = await startApp({
      imports: [SocketIOModule.forRoot()],
      providers: [CountingGateway],
    }));
    gateway = app.get(CountingGateway);
  });

  afterAll(async () => {
    closeClients();
    await app?.close();
  });

  it('are not patched: a directly called handleConnection or handleDisconnect runs the user code', () => {
    // Nest 11 looks handleConnection up at every connection: there a pass-through stays on it.
    expect(Object.hasOwn(gateway, 'handleConnection')).toBe(NEST_MAJOR < 12);
    expect(Object.hasOwn(gateway, 'handleDisconnect')).toBe(false);
    gateway.handleConnection({ id: 'direct-call' } as Socket);
    gateway.handleDisconnect({ id: 'direct-call' } as Socket);
    expect(gateway.connected).toContain('direct-call');
    expect(gateway.disconnected).toContain('direct-call');
  });

  it('still see handleConnection run once per client, and handleDisconnect once', async () => {
    const client = await connect(url);
    const id = client.id!;
    expect(gateway.connected.filter((sid) => sid === id)).toHaveLength(1);
    const gone = disconnected(client);
    client.disconnect();
    await gone;
    await expect.poll(() => gateway.disconnected.filter((sid) => sid === id)).toHaveLength(1);
  });
});
