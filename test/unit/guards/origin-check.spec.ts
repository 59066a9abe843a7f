import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { corsServerOptions, originPolicy } from '../../../lib/guards/origin-check.js';

const request = (host: string, origin?: string) =>
  ({ headers: { host, ...(origin === undefined ? {} : { origin }) } }) as IncomingMessage;

/** What allowRequest decides for a request. */
function decide(options: ReturnType<typeof corsServerOptions>, req: IncomingMessage) {
  return new Promise<{ err: unknown; ok: boolean }>((resolve) =>
    options.allowRequest!(req, (err, ok) => resolve({ err, ok })),
  );
}

describe('CORS origin policy', () => {
  it('defaults to the same origin (host and port)', async () => {
    const policy = originPolicy(undefined);
    const req = request('app.example:3000');
    expect(await policy('http://app.example:3000', req)).toBe(true);
    expect(await policy('https://app.example:3000', req)).toBe(true);
    expect(await policy('http://app.example:3001', req)).toBe(false);
    expect(await policy('http://evil.example', req)).toBe(false);
    expect(await policy('null', req)).toBe(false);
  });

  it("'*' and true allow any origin", async () => {
    for (const cors of ['*', true] as const) {
      expect(await originPolicy(cors)('http://any.example', request('x'))).toBe(true);
    }
  });

  it('a list matches strings exactly and RegExps by test', async () => {
    const policy = originPolicy(['http://a.example', /^https:\/\/[a-z]+\.b\.example$/]);
    expect(await policy('http://a.example', request('x'))).toBe(true);
    expect(await policy('http://a.example.evil', request('x'))).toBe(false);
    expect(await policy('https://api.b.example', request('x'))).toBe(true);
    expect(await policy('https://b.example', request('x'))).toBe(false);
  });

  it('an origin function decides through its callback', async () => {
    const policy = originPolicy({
      origin: (origin, cb) => cb(null, origin?.endsWith('.trusted') ?? false),
    });
    expect(await policy('http://x.trusted', request('x'))).toBe(true);
    expect(await policy('http://x.other', request('x'))).toBe(false);
    const failing = originPolicy({ origin: (_o, cb) => cb(new Error('down'), true) });
    expect(await failing('http://x.trusted', request('x'))).toBe(false);
  });

  it('allowRequest lets requests without Origin through and refuses disallowed ones', async () => {
    const options = corsServerOptions(undefined);
    expect(await decide(options, request('app.example'))).toEqual({ err: null, ok: true });
    expect(await decide(options, request('app.example', 'http://evil.example'))).toEqual({
      err: 'Origin not allowed',
      ok: false,
    });
    expect(options.cors).toBeUndefined();
  });

  it("a user's allowRequest runs after the origin check", async () => {
    const seen: string[] = [];
    const options = corsServerOptions('*', (req, cb) => {
      seen.push(String(req.headers.origin));
      cb('no thanks', false);
    });
    expect(await decide(options, request('x', 'http://a.example'))).toEqual({
      err: 'no thanks',
      ok: false,
    });
    expect(seen).toEqual(['http://a.example']);
    expect(options.cors).toEqual({ origin: '*' });
  });

  it('an origin list sets credentials-enabled CORS headers for it', () => {
    expect(corsServerOptions(['http://a.example']).cors).toEqual({
      origin: ['http://a.example'],
      credentials: true,
    });
  });
});
