import session from 'express-session';
import { describe, expect, it } from 'vitest';
import { InvalidSocketIOOptionError } from 'nest-socketio';
import { checkSessionOptions, sessionStoreOf } from '../../../lib/session/session-options.js';

describe('session options', () => {
  it('refuses manageSession: false without a session middleware, naming the option', () => {
    expect(() => checkSessionOptions({ manageSession: false })).toThrow(InvalidSocketIOOptionError);
    expect(() => checkSessionOptions({ manageSession: false })).toThrow(
      /^SocketIOModule option "manageSession" is false, .* no "session" option/,
    );
  });

  it('accepts manageSession: false with a session, and the default without one', () => {
    const middleware = session({ secret: 's', resave: false, saveUninitialized: false });
    expect(() => checkSessionOptions({ manageSession: false, session: middleware })).not.toThrow();
    expect(() => checkSessionOptions({})).not.toThrow();
  });

  it("finds express-session's store without saving anything to it", async () => {
    const store = new session.MemoryStore();
    const middleware = session({ secret: 's', resave: false, saveUninitialized: true, store });
    expect(await sessionStoreOf(middleware)).toBe(store);
    const count = await new Promise((resolve) => store.length((_err, n) => resolve(n)));
    expect(count).toBe(0);
  });

  it('finds no store behind a middleware that is not express-session', async () => {
    expect(await sessionStoreOf((_req, _res, next) => next())).toBeUndefined();
    expect(await sessionStoreOf((_req, _res, next) => next(new Error('nope')))).toBeUndefined();
  });
});
