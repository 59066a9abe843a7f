import type { INestApplication } from '@nestjs/common';
import type { Socket } from 'socket.io';
import { WebSocketServer } from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ConnectionRefusedError,
  MissingDependencyError,
  SocketIOModule,
  SocketService,
  type SocketIOModuleOptions,
  type WsEngineOption,
} from 'nest-socketio';
import { client, closeClients, connect, next, startApp } from '../../support/app.js';
import { connectError } from '../../support/client-events.js';
import { EchoGateway } from '../../support/echo-gateway.js';
import { stallReading } from '../../support/stalled-client.js';

/** Refuses a client without `auth.token`: the connection guard path on this engine. */
class TokenGuard {
  canActivate(context: { switchToWs(): { getClient<T>(): T } }): boolean {
    if (context.switchToWs().getClient<Socket>().handshake.auth?.token) return true;
    throw new ConnectionRefusedError('no token');
  }
}

let app: INestApplication | undefined;

async function start(options: SocketIOModuleOptions) {
  const started = await startApp({
    imports: [
      SocketIOModule.forRoot({ logger: false, connectionGuards: [TokenGuard], ...options }),
    ],
    providers: [EchoGateway],
  });
  app = started.app;
  return started.url;
}

afterEach(async () => {
  closeClients();
  await app?.close();
  app = undefined;
});

const auth = { token: 't' };
const major = Number(process.versions.node.split('.')[0]);

/** `ws`'s own server, subclassed: proves the class given reaches Engine.IO and serves every upgrade. */
function countingWsServer() {
  const seen = { upgrades: 0 };
  class CountingServer extends WebSocketServer {
    override handleUpgrade(...args: Parameters<WebSocketServer['handleUpgrade']>) {
      seen.upgrades++;
      return super.handleUpgrade(...args);
    }
  }
  return { engine: CountingServer, seen };
}

async function eiowsLoads(): Promise<boolean> {
  if (major < 22) return false;
  try {
    await import('eiows' as string);
    return true;
  } catch {
    return false;
  }
}
const hasEiows = await eiowsLoads();

/** The module's features on one engine, with real socket.io clients. */
function featuresOn(engine: () => WsEngineOption, upgrades?: () => number) {
  it('answers acks, with binary payloads, over websocket', async () => {
    const url = await start({ wsEngine: engine() });
    const c = await connect(url, { auth });
    expect(await c.emitWithAck('echo', { text: 'hé' })).toEqual({ text: 'hé' });
    const bytes = Buffer.from([0, 1, 2, 250, 255]);
    const back = (await c.emitWithAck('echo', bytes)) as Buffer;
    expect(Buffer.from(back)).toEqual(bytes);
    if (upgrades) expect(upgrades()).toBe(1);
  });

  it('broadcasts to the namespace and to a room only', async () => {
    const url = await start({ wsEngine: engine() });
    const [a, b] = await Promise.all([connect(url, { auth }), connect(url, { auth })]);
    expect(await a.emitWithAck('join', 'red')).toBe('joined');
    const sockets = app!.get(SocketService);
    const toAll = Promise.all([next(a, 'news'), next(b, 'news')]);
    sockets.emit('news', 'all');
    expect(await toAll).toEqual(['all', 'all']);
    const seenByB: unknown[] = [];
    b.on('news', (d) => seenByB.push(d));
    const toRoom = next(a, 'news');
    sockets.emit('news', 'red only', { to: 'red' });
    expect(await toRoom).toBe('red only');
    // b's order: an echo answered after the room emit proves the emit never reached b.
    expect(await b.emitWithAck('echo', 'after')).toBe('after');
    expect(seenByB).toEqual([]);
  });

  it('refuses a client the connection guard refuses', async () => {
    const url = await start({ wsEngine: engine() });
    const err = await connectError(client(url));
    expect(err.message).toBe('no token');
  });

  it('starts on polling and upgrades to this engine', async () => {
    const url = await start({ wsEngine: engine() });
    const c = await connect(url, { auth, transports: ['polling', 'websocket'] });
    if (c.io.engine.transport.name !== 'websocket') {
      await new Promise((resolve) => c.io.engine.once('upgrade', resolve));
    }
    expect(c.io.engine.transport.name).toBe('websocket');
    expect(await c.emitWithAck('echo', 'upgraded')).toBe('upgraded');
    if (upgrades) expect(upgrades()).toBe(1);
  });

  it('closes a client that stops reading past maxBufferedBytes', async () => {
    const url = await start({ wsEngine: engine(), maxBufferedBytes: 1_000_000 });
    const sockets = app!.get(SocketService);
    const reader = await connect(url, { auth });
    const stalled = await connect(url, { auth });
    const onServer = sockets.server.of('/').sockets.get(stalled.id!)!;
    // The stalled client's TCP socket stops reading: what the server sends piles up.
    const state = stallReading(stalled, onServer);
    const chunk = 'x'.repeat(100_000);
    for (let sent = 0; sent < 600 && !state.closed; sent++) {
      const got = next(reader, 'chunk');
      sockets.emit('chunk', chunk, { to: [reader.id!, stalled.id!] });
      await got;
    }
    expect(await state.gone).toBe('forced close');
    expect(await reader.emitWithAck('echo', 'ok')).toBe('ok');
    state.release();
  });
}

describe("wsEngine: a ws-compatible server class (ws's own, subclassed)", () => {
  let counting = countingWsServer();
  afterEach(() => {
    counting = countingWsServer();
  });
  featuresOn(
    () => counting.engine,
    () => counting.seen.upgrades,
  );
});

describe("wsEngine: 'ws' (Engine.IO's default)", () => {
  featuresOn(() => 'ws');
});

// eiows builds its addon from Node's own source tree when it is installed (it downloads it), so
// it is installed by hand, not by `npm ci`: `npm install --no-save eiows` on Node 22+.
describe.skipIf(!hasEiows)(
  "wsEngine: 'eiows' (needs Node 22+ and eiows installed: npm install --no-save eiows)",
  () => {
    featuresOn(() => 'eiows');
  },
);

describe("wsEngine: 'eiows' where it cannot run", () => {
  it.runIf(major < 22)('fails at start-up on Node 20, naming the option and Node 22', async () => {
    await expect(start({ wsEngine: 'eiows' })).rejects.toThrow(
      /option "wsEngine" is 'eiows', which needs Node 22 or newer \(this is Node 20\./,
    );
  });

  it.runIf(major >= 22 && !hasEiows)(
    'fails at start-up naming the package to install when eiows is missing',
    async () => {
      const failure = start({ wsEngine: 'eiows' });
      await expect(failure).rejects.toBeInstanceOf(MissingDependencyError);
      await expect(failure).rejects.toThrow(/npm install eiows/);
    },
  );
});
