// Flask-SocketIO's test_managed_session and test_unmanaged_session: an HTTP login made with a test
// agent carries into the test client's socket.
import { Controller, Get, Req, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import session from 'express-session';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestClient } from 'nest-socketio/testing';
import { flaskApp } from './flask-app.js';

@Controller('session')
class SessionController {
  @Get()
  login(@Req() req: { session: Record<string, unknown> }) {
    req.session.foo = 'bar';
    return {};
  }

  @Get('show')
  show(@Req() req: { session: Record<string, unknown> }) {
    const { cookie: _cookie, ...data } = req.session;
    return data;
  }
}

async function start(manageSession: boolean): Promise<INestApplication> {
  const middleware = session({ secret: 'secret', resave: false, saveUninitialized: false });
  const metadata = flaskApp({ session: middleware, manageSession });
  const moduleRef = await Test.createTestingModule({
    ...metadata,
    controllers: [SessionController],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  app.use(middleware);
  await app.init();
  return app;
}

let app: INestApplication | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function socketSession(client: Awaited<ReturnType<typeof createTestClient>>) {
  return client.emit('session', undefined, { ack: true });
}

describe('sessions through the test client', () => {
  it('test_managed_session: the socket starts from the HTTP session and keeps its own copy', async () => {
    app = await start(true);
    const agent = request.agent(app.getHttpServer());
    await agent.get('/session').expect(200);
    const client = await createTestClient(app, { auth: { foo: 'bar' }, cookie: agent });
    await client.send('echo this message back');
    expect(await socketSession(client)).toEqual({ foo: 'bar' });
    await client.send('test session');
    expect(await socketSession(client)).toEqual({ foo: 'bar', a: 'b' });
    await client.send('test session');
    expect(await socketSession(client)).toEqual({ foo: 'bar', a: 'c' });
    // Managed: HTTP does not see what the socket changed.
    expect((await agent.get('/session/show')).body).toEqual({ foo: 'bar' });
  });

  it('test_unmanaged_session: the socket and HTTP share one session', async () => {
    app = await start(false);
    const agent = request.agent(app.getHttpServer());
    await agent.get('/session').expect(200);
    const client = await createTestClient(app, { auth: { foo: 'bar' }, cookie: agent });
    expect(await client.send('test session', { ack: true })).toBe('test session');
    expect((await agent.get('/session/show')).body).toEqual({ foo: 'bar', a: 'b' });
    expect(await client.send('test session', { ack: true })).toBe('test session');
    expect((await agent.get('/session/show')).body).toEqual({ foo: 'bar', a: 'c' });
  });

  it('a client without the cookie gets a session of its own', async () => {
    app = await start(true);
    await request.agent(app.getHttpServer()).get('/session').expect(200);
    const client = await createTestClient(app, { auth: { foo: 'bar' } });
    expect(await socketSession(client)).toEqual({});
  });

  it('a cookie given as a string works as the agent does', async () => {
    app = await start(true);
    const res = await request(app.getHttpServer()).get('/session').expect(200);
    const cookie = res.headers['set-cookie'][0].split(';')[0];
    const client = await createTestClient(app, { auth: { foo: 'bar' }, cookie });
    expect(await socketSession(client)).toEqual({ foo: 'bar' });
  });
});
