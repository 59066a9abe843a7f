import bcrypt from 'bcryptjs';
import type { INestApplication } from '@nestjs/common';
import { afterEach, describe, expect, it } from 'vitest';
import {
  InvalidSocketIOOptionError,
  UnsafeConfigurationError,
  type SocketIOModuleOptions,
} from 'nest-socketio';
import { client, closeClients, connect, next } from '../../support/app.js';
import { connectError } from '../../support/client-events.js';
import { startObservedApp } from '../../support/observability-app.js';

const ADMIN_ORIGIN = 'https://admin.socket.io';
// Cost 4: the hash is real bcrypt, only quick to check.
const hash = bcrypt.hashSync('s3cret', 4);
const adminUi = { auth: { username: 'ops', password: hash } };

let app: INestApplication | undefined;

async function start(options: SocketIOModuleOptions) {
  const started = await startObservedApp(options);
  app = started.app;
  return started.url;
}

afterEach(async () => {
  closeClients();
  await app?.close();
  app = undefined;
});

/** What a browser on the admin UI's page sends: its origin, and the credentials it was given. */
function fromAdminPage(auth: Record<string, string>, origin = ADMIN_ORIGIN) {
  return { auth, extraHeaders: { origin } };
}

describe('adminUi option', () => {
  it('serves /admin to the right credentials, and the UI gets its configuration', async () => {
    const url = await start({ adminUi });
    const ui = client(`${url}/admin`, fromAdminPage({ username: 'ops', password: 's3cret' }));
    const config = next<{ supportedFeatures: string[] }>(ui, 'config');
    await next(ui, 'connect');
    expect((await config).supportedFeatures).toContain('AGGREGATED_EVENTS');
    // The application's namespaces are served as before (a client of the same origin).
    const user = await connect(url);
    expect(await user.emitWithAck('echo', 'still here')).toBe('still here');
  });

  it('refuses wrong credentials and no credentials', async () => {
    const url = await start({ adminUi });
    const wrong = client(`${url}/admin`, fromAdminPage({ username: 'ops', password: 'guess' }));
    expect((await connectError(wrong)).message).toBe('invalid credentials');
    const nobody = client(`${url}/admin`, fromAdminPage({ username: 'root', password: 's3cret' }));
    expect((await connectError(nobody)).message).toBe('invalid credentials');
  });

  it("lets the admin UI's origin into /admin only, never into the application's namespaces", async () => {
    const url = await start({ adminUi });
    const right = { username: 'ops', password: 's3cret' };
    await connect(`${url}/admin`, fromAdminPage(right));
    const intoApp = client(url, fromAdminPage(right));
    expect((await connectError(intoApp)).message).toBe('Origin not allowed');
    const intoPrivate = client(`${url}/private`, {
      ...fromAdminPage(right),
      auth: { token: 'ok' },
    });
    expect((await connectError(intoPrivate)).message).toBe('Origin not allowed');
    // Another site is refused everywhere, /admin included.
    const elsewhere = client(`${url}/admin`, fromAdminPage(right, 'https://evil.example'));
    expect((await connectError(elsewhere)).message).toBe('websocket error');
  });

  it("answers CORS for the admin UI's origin only (polling)", async () => {
    const url = await start({ adminUi });
    const handshake = (origin: string) =>
      fetch(`${url}/socket.io/?EIO=4&transport=polling`, { headers: { origin } });
    const admin = await handshake(ADMIN_ORIGIN);
    expect(admin.status).toBe(200);
    expect(admin.headers.get('access-control-allow-origin')).toBe(ADMIN_ORIGIN);
    expect(admin.headers.get('access-control-allow-credentials')).toBe('true');
    const evil = await handshake('https://evil.example');
    expect(evil.status).toBe(403);
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();
  });

  it("keeps the application's own CORS origins working next to the admin UI's", async () => {
    const url = await start({ adminUi, cors: ['https://app.example'] });
    const c = await connect(url, { extraHeaders: { origin: 'https://app.example' } });
    expect(await c.emitWithAck('echo', 1)).toBe(1);
    const res = await fetch(`${url}/socket.io/?EIO=4&transport=polling`, {
      headers: { origin: 'https://app.example' },
    });
    expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example');
  });

  it('takes its own origin and namespace', async () => {
    const url = await start({
      adminUi: { ...adminUi, origin: 'https://ops.example', namespace: '/ops' },
    });
    const right = { username: 'ops', password: 's3cret' };
    await connect(`${url}/ops`, fromAdminPage(right, 'https://ops.example'));
    const hosted = client(`${url}/ops`, fromAdminPage(right));
    expect((await connectError(hosted)).message).toBe('websocket error');
  });

  it('fails at startup on a password that is not a bcrypt hash, naming the option', async () => {
    const error = await start({ adminUi: { auth: { username: 'ops', password: 's3cret' } } }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(InvalidSocketIOOptionError);
    expect((error as Error).message).toContain('"adminUi" auth.password must be a bcrypt hash');
  });

  it('is refused in production without auth', async () => {
    const saved = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try {
      const error = await start({ adminUi: { auth: false } }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UnsafeConfigurationError);
      expect((error as Error).message).toContain(
        'adminUi: serves the Socket.IO admin UI without authentication',
      );
      // With auth it starts.
      await start({ adminUi });
    } finally {
      if (saved === undefined) delete process.env.NODE_ENV;
      else process.env.NODE_ENV = saved;
    }
  });
});
