import { Test } from '@nestjs/testing';
import type { INestApplication, ModuleMetadata } from '@nestjs/common';

type Middleware = (req: any, res: any, next: (err?: unknown) => void) => void;

/** Starts an app whose HTTP routes use `session` (as `app.use(session)` in main.ts would). */
export async function startSessionApp(
  metadata: ModuleMetadata,
  session: Middleware,
): Promise<{ app: INestApplication; url: string }> {
  const moduleRef = await Test.createTestingModule(metadata).compile();
  const app = moduleRef.createNestApplication({
    logger: process.env.DEBUG_APP ? undefined : false,
  });
  app.use(session);
  await app.listen(0, '127.0.0.1');
  return { app, url: (await app.getUrl()).replace('[::1]', '127.0.0.1') };
}

/** An HTTP call with a cookie; resolves with the JSON body and the session cookie set, if any. */
export async function http(
  url: string,
  path: string,
  { cookie, body }: { cookie?: string; body?: unknown } = {},
): Promise<{ status: number; json: any; cookie?: string }> {
  const res = await fetch(`${url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: {
      ...(cookie ? { cookie } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const setCookie = res.headers.getSetCookie().find((c) => c.startsWith('connect.sid='));
  const text = await res.text();
  return {
    status: res.status,
    json: text ? JSON.parse(text) : undefined,
    cookie: setCookie?.split(';')[0],
  };
}
