import type { IncomingMessage } from 'node:http';
import type { ServerOptions } from 'socket.io';
import type { SocketIOCorsOption } from '../interfaces/socket-io-module-options.interface.js';

type AllowRequest = NonNullable<ServerOptions['allowRequest']>;
type OriginPolicy = (origin: string, req: IncomingMessage) => Promise<boolean>;

const matches = (origin: string, allowed: string | RegExp) =>
  typeof allowed === 'string' ? allowed === origin : allowed.test(origin);

function sameOrigin(origin: string, req: IncomingMessage): boolean {
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

/** Which origins pass; `undefined` (the default) is the server's own origin only. */
export function originPolicy(cors: SocketIOCorsOption | undefined): OriginPolicy {
  if (cors === undefined) return async (origin, req) => sameOrigin(origin, req);
  if (cors === true || cors === '*') return async () => true;
  if (typeof cors === 'string' || cors instanceof RegExp || Array.isArray(cors)) {
    const list = ([] as (string | RegExp)[]).concat(cors);
    return async (origin) => list.some((allowed) => matches(origin, allowed));
  }
  const { origin } = cors;
  if (typeof origin === 'function') {
    return (value) =>
      new Promise((resolve) => origin(value, (err, allow) => resolve(!err && allow === true)));
  }
  return originPolicy(origin as SocketIOCorsOption);
}

/**
 * The socket.io options that enforce a CORS setting: response headers through socket.io's `cors`,
 * and `allowRequest` refusing a browser from a disallowed origin on polling and on the websocket
 * upgrade (headers alone stop nothing on a websocket). Requests without an `Origin` header (not
 * from a browser) pass. A user `allowRequest` runs after the origin check.
 */
export function corsServerOptions(
  cors: SocketIOCorsOption | undefined,
  userAllowRequest?: ServerOptions['allowRequest'],
): Partial<ServerOptions> {
  const policy = originPolicy(cors);
  const allowRequest: AllowRequest = (req, callback) => {
    const origin = req.headers.origin;
    const verdict = origin === undefined ? Promise.resolve(true) : policy(origin, req);
    verdict.then(
      (allowed) => {
        if (!allowed) return callback('Origin not allowed', false);
        if (userAllowRequest) return userAllowRequest(req, callback);
        callback(null, true);
      },
      () => callback('Origin not allowed', false),
    );
  };
  const options: Partial<ServerOptions> = { allowRequest };
  if (cors === true || cors === '*') options.cors = { origin: '*' };
  else if (typeof cors === 'string' || cors instanceof RegExp || Array.isArray(cors)) {
    options.cors = { origin: cors as any, credentials: true };
  } else if (cors) options.cors = cors as ServerOptions['cors'];
  return options;
}
