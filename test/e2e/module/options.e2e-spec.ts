import type { INestApplication } from '@nestjs/common';
import msgpackParser from 'socket.io-msgpack-parser';
import { afterEach, describe, expect, it } from 'vitest';
import { SocketIOModule, SocketService, type SocketIOModuleOptions } from 'nest-socketio';
import { client, closeClients, connect, next, startApp } from '../../support/app.js';
import { EchoGateway } from '../../support/echo-gateway.js';
import { connectError, disconnected } from '../../support/client-events.js';

const apps: INestApplication[] = [];

async function serve(options: SocketIOModuleOptions, fastify = false) {
  const started = await startApp(
    { imports: [SocketIOModule.forRoot(options)], providers: [EchoGateway] },
    { fastify },
  );
  apps.push(started.app);
  return started;
}

/** The Engine.IO open packet of a polling handshake, and the response itself. */
async function handshake(url: string, path = '/socket.io', headers: Record<string, string> = {}) {
  const res = await fetch(`${url}${path}/?EIO=4&transport=polling`, { headers });
  const body = await res.text();
  const open = res.ok && body.startsWith('0') ? JSON.parse(body.slice(1)) : undefined;
  return { res, body, open };
}

describe('module options reach the server', () => {
  afterEach(async () => {
    closeClients();
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });

  it('defaults: pings every 25 s, 20 s timeout, 1 MB packets, no cookie', async () => {
    const { url } = await serve({});
    const { res, open } = await handshake(url);
    expect(open).toMatchObject({ pingInterval: 25000, pingTimeout: 20000, maxPayload: 1e6 });
    expect(open.upgrades).toEqual(['websocket']);
    expect(res.headers.get('set-cookie')).toBeNull();
  });

  it('pingInterval, pingTimeout and maxHttpBufferSize are announced in the handshake', async () => {
    const { url } = await serve({ pingInterval: 1234, pingTimeout: 567, maxHttpBufferSize: 4096 });
    const { open } = await handshake(url);
    expect(open).toMatchObject({ pingInterval: 1234, pingTimeout: 567, maxPayload: 4096 });
  });

  it('maxHttpBufferSize refuses a larger payload by closing the connection', async () => {
    const { url } = await serve({ maxHttpBufferSize: 1000 });
    const c = await connect(url);
    expect(await c.emitWithAck('echo', 'x'.repeat(500))).toHaveLength(500);
    const gone = disconnected(c);
    c.emit('echo', 'x'.repeat(2000));
    expect(await gone).toBe('transport close');
  });

  it('a client that misses pings is dropped after pingInterval + pingTimeout', async () => {
    const { app, url } = await serve({ pingInterval: 100, pingTimeout: 100 });
    const c = await connect(url);
    const serverSocket = app.get(SocketService).server.of('/').sockets.get(c.id!)!;
    const reason = new Promise((resolve) => serverSocket.once('disconnect', resolve));
    const started = Date.now();
    // Stop answering pings: the client's pong is what the server waits for.
    const engine = c.io.engine as unknown as Record<string, unknown>;
    engine._sendPacket = engine.sendPacket = () => undefined;
    expect(await reason).toBe('ping timeout');
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('path moves the endpoint', async () => {
    const { url } = await serve({ path: '/realtime' });
    const c = await connect(url, { path: '/realtime' });
    expect(await c.emitWithAck('echo', 'moved')).toBe('moved');
    expect((await handshake(url)).res.status).toBe(404);
    // Nothing is served on the default path any more.
    expect((await fetch(`${url}/socket.io/?EIO=4&transport=polling`)).status).toBe(404);
  });

  it('cors default: same origin only; other origins are refused and get no CORS headers', async () => {
    const { url } = await serve({});
    const same = await handshake(url, undefined, { origin: url });
    expect(same.res.status).toBe(200);
    const evil = await handshake(url, undefined, { origin: 'http://evil.example' });
    expect(evil.res.status).toBe(403);
    expect(evil.res.headers.get('access-control-allow-origin')).toBeNull();
    // A browser-like websocket client from another origin is refused too.
    const refused = await connectError(
      client(url, { extraHeaders: { origin: 'http://evil.example' } }),
    );
    expect(refused.message).toBe('websocket error');
    // Non-browser clients send no Origin and pass.
    const c = await connect(url);
    expect(await c.emitWithAck('echo', 1)).toBe(1);
  });

  it('on Fastify too: CORS, path and packet size options apply', async () => {
    const { url } = await serve(
      { path: '/rt', maxHttpBufferSize: 2048, cors: 'http://ok.example' },
      true,
    );
    const ok = await handshake(url, '/rt', { origin: 'http://ok.example' });
    expect(ok.open).toMatchObject({ maxPayload: 2048 });
    expect(ok.res.headers.get('access-control-allow-origin')).toBe('http://ok.example');
    const evil = await handshake(url, '/rt', { origin: 'http://evil.example' });
    expect(evil.res.status).toBe(403);
    const c = await connect(url, { path: '/rt' });
    expect(await c.emitWithAck('echo', 'fastify')).toBe('fastify');
  });

  it('cors with an origin list sets the headers for it and refuses the others', async () => {
    const { url } = await serve({ cors: ['http://app.example', /\.trusted\.example$/] });
    const ok = await handshake(url, undefined, { origin: 'http://app.example' });
    expect(ok.res.status).toBe(200);
    expect(ok.res.headers.get('access-control-allow-origin')).toBe('http://app.example');
    expect(ok.res.headers.get('access-control-allow-credentials')).toBe('true');
    const sub = await handshake(url, undefined, { origin: 'https://a.trusted.example' });
    expect(sub.res.headers.get('access-control-allow-origin')).toBe('https://a.trusted.example');
    // A browser's preflight (polling with custom headers) is answered for an allowed origin.
    const preflight = await fetch(`${url}/socket.io/?EIO=4&transport=polling`, {
      method: 'OPTIONS',
      headers: {
        origin: 'http://app.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'x-token',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('http://app.example');
    const other = await handshake(url, undefined, { origin: 'http://other.example' });
    expect(other.res.status).toBe(403);
    expect(other.res.headers.get('access-control-allow-origin')).toBeNull();
  });

  it("cors '*' allows any origin", async () => {
    const { url } = await serve({ cors: '*' });
    const any = await handshake(url, undefined, { origin: 'http://anywhere.example' });
    expect(any.res.status).toBe(200);
    expect(any.res.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('transports limits what clients may use', async () => {
    const { url } = await serve({ transports: ['websocket'] });
    const polling = await handshake(url);
    expect(polling.res.status).toBe(400);
    expect(polling.body).toContain('Transport unknown');
    const c = await connect(url, { transports: ['websocket'] });
    expect(await c.emitWithAck('echo', 'ws')).toBe('ws');
  });

  it('cookie sets the io cookie for sticky sessions', async () => {
    const { url } = await serve({ cookie: { name: 'sticky', httpOnly: true, path: '/' } });
    const { res } = await handshake(url);
    expect(res.headers.get('set-cookie')).toMatch(/^sticky=[\w-]+; Path=\/; HttpOnly/);
  });

  it("parser 'msgpack' round-trips binary with a msgpack client", async () => {
    const { url } = await serve({ parser: 'msgpack' });
    const c = await connect(url, { parser: msgpackParser });
    const bytes = Buffer.from([0, 1, 2, 253, 254, 255]);
    const echoed = (await c.emitWithAck('echo', { bytes, n: 7 })) as {
      bytes: Uint8Array;
      n: number;
    };
    expect(echoed.n).toBe(7);
    expect(Buffer.from(echoed.bytes)).toEqual(bytes);
  });

  it('connectionStateRecovery replays what a briefly disconnected client missed', async () => {
    const { app, url } = await serve({
      connectionStateRecovery: { maxDisconnectionDuration: 5000 },
    });
    const sockets = app.get(SocketService);
    const c = await connect(url, { reconnection: true, reconnectionDelay: 50 });
    expect(c.recovered).toBe(false);
    expect(await c.emitWithAck('join', 'news')).toBe('joined');
    // Recovery needs an offset: the client must have received one packet with it.
    const first = next(c, 'news');
    sockets.emit('news', 'first', { to: 'news' });
    expect(await first).toBe('first');
    const sid = c.id;
    const serverSaw = new Promise<void>((resolve) =>
      sockets.server
        .of('/')
        .sockets.get(sid!)!
        .once('disconnect', () => resolve()),
    );
    c.io.engine.close();
    await serverSaw;
    sockets.emit('news', 'missed', { to: 'news' });
    const missed = next(c, 'news');
    await next(c, 'connect');
    expect(c.recovered).toBe(true);
    expect(c.id).toBe(sid);
    expect(await missed).toBe('missed');
  });

  it('serverOptions reach socket.io as they are', async () => {
    const { url } = await serve({ serverOptions: { allowUpgrades: false, pingInterval: 4321 } });
    const { open } = await handshake(url);
    expect(open.upgrades).toEqual([]);
    expect(open.pingInterval).toBe(4321);
  });

  it('a wrong option fails at startup with an error that names it', async () => {
    await expect(serve({ pingInterval: 'soon' as never })).rejects.toThrow(
      'SocketIOModule option "pingInterval" must be a positive number',
    );
    await expect(serve({ pathh: '/x' } as never)).rejects.toThrow(
      /SocketIOModule option "pathh" is unknown/,
    );
  });
});
