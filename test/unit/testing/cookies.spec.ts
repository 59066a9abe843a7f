import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cookieHeader } from '../../../lib/testing/cookies.js';

describe('the Cookie header of the test client', () => {
  let server: Server;
  let url: URL;
  beforeAll(async () => {
    server = createServer((_req, res) => {
      res.setHeader('set-cookie', [
        'sid=s%3Aabc; Path=/; HttpOnly',
        'api=1; Path=/api',
        'secure=1; Path=/; Secure',
      ]);
      res.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('takes a header value as it is, and encodes name/value pairs', () => {
    expect(cookieHeader('a=1; b=2', url, '/socket.io')).toBe('a=1; b=2');
    expect(cookieHeader({ a: '1', b: 'x y' }, url, '/socket.io')).toBe('a=1; b=x%20y');
    expect(cookieHeader(undefined, url, '/socket.io')).toBeUndefined();
    expect(cookieHeader({}, url, '/socket.io')).toBeUndefined();
  });

  it("sends what a browser would from a supertest agent's jar: path and secure respected", async () => {
    const agent = request.agent(server);
    await agent.get('/login').expect(200);
    expect(cookieHeader(agent, url, '/socket.io')).toBe('sid=s%3Aabc');
    expect(cookieHeader(agent, url, '/api/socket')).toBe('sid=s%3Aabc; api=1');
  });

  it('sends nothing from an agent that has no cookie yet', () => {
    expect(cookieHeader(request.agent(server), url, '/socket.io')).toBeUndefined();
  });
});
