import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { answers, ensureService, postgresService, redisService } from '../../support/services.js';

/** A port nothing listens on (taken from the OS, then released). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const started: number[] = [];
const servers: Server[] = [];

afterEach(async () => {
  for (const port of started.splice(0)) {
    execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'shutdown', 'nosave']);
  }
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

describe('the services the end-to-end tests need', () => {
  it('leaves a running service alone', async () => {
    const server = createServer();
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    expect(await ensureService(redisService(port))).toBe('running');
  });

  it('starts Redis when it is installed but not running, and it then answers PING', async () => {
    const port = await freePort();
    expect(await answers(port)).toBe(false);
    expect(await ensureService(redisService(port))).toBe('started');
    started.push(port);
    const reply = execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'ping'], {
      encoding: 'utf8',
    });
    expect(reply.trim()).toBe('PONG');
  });

  it.each([
    ['Redis', redisService, 'sudo apt-get install -y redis-server'],
    ['PostgreSQL', postgresService, 'sudo apt-get install -y postgresql'],
  ] as const)('says the one install command when %s is missing', async (name, service, command) => {
    const port = await freePort();
    await expect(ensureService(service(port), '/nonexistent')).rejects.toThrow(
      `${name} is not running on 127.0.0.1:${port} and is not installed. The end-to-end tests need it: install it with \`${command}\`, then run npm test again.`,
    );
  });
});
