import type { CookieJarAgent, TestClientOptions } from './test-client.options.js';

function isAgent(value: unknown): value is CookieJarAgent {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as CookieJarAgent).jar?.getCookies === 'function'
  );
}

/** The `Cookie` header a browser would send to `url` + `path`, or undefined when there is none. */
export function cookieHeader(
  cookie: TestClientOptions['cookie'],
  url: URL,
  path: string,
): string | undefined {
  if (cookie === undefined) return undefined;
  if (typeof cookie === 'string') return cookie || undefined;
  if (isAgent(cookie)) {
    const access = { domain: url.hostname, path, secure: url.protocol === 'https:', script: false };
    return cookie.jar.getCookies(access).toValueString() || undefined;
  }
  const pairs = Object.entries(cookie).map(([k, v]) => `${k}=${encodeURIComponent(v)}`);
  return pairs.length ? pairs.join('; ') : undefined;
}
