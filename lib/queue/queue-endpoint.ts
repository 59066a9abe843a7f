import type { MessageQueueOptions } from '../interfaces/socket-io-module-options.interface.js';

/** Which service a message queue talks to and where, for messages that must never show a password. */
export interface QueueEndpoint {
  readonly type: MessageQueueOptions['type'];
  readonly url: string;
  /** `Redis at 127.0.0.1:6379`, `PostgreSQL at db:5432`: host and port only. */
  readonly label: string;
  readonly adapterOptions: Record<string, unknown>;
}

/** Normalises the string and object forms of the `messageQueue` option, for a kind of queue. */
export function queueEndpoint(
  option: string | MessageQueueOptions,
  kind: {
    type: string;
    service: string;
    defaultPort: number;
    schemePorts?: Readonly<Record<string, number>>;
  },
): QueueEndpoint {
  const { url, adapterOptions } =
    typeof option === 'string' ? { url: option, adapterOptions: {} } : option;
  return {
    type: kind.type as MessageQueueOptions['type'],
    url,
    adapterOptions: adapterOptions ?? {},
    label: `${kind.service} at ${hostOf(url, kind.defaultPort, kind.schemePorts)}`,
  };
}

/** `host:port` of a URL, with the default port of its kind; never its credentials. */
function hostOf(
  url: string,
  defaultPort: number,
  schemePorts: Readonly<Record<string, number>> = {},
): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return '(an unparsable URL)';
  }
  const port = parsed.port || schemePorts[parsed.protocol.slice(0, -1)] || defaultPort;
  return `${parsed.hostname || 'localhost'}:${port}`;
}

/** Removes the credentials of any URL a driver may have put into an error message. */
function withoutSecrets(message: string, url: string): string {
  let out = message.split(url).join('(message queue URL)');
  try {
    const { password } = new URL(url);
    for (const secret of new Set([password, decodeURIComponent(password)])) {
      if (secret) out = out.split(secret).join('***');
    }
  } catch {
    // an unparsable URL has no credentials to hide
  }
  return out;
}

/** A driver's error as it may be logged: its message, without the queue's credentials. */
export function queueErrorText(err: unknown, endpoint: QueueEndpoint): string {
  const message = (err as { message?: unknown } | undefined)?.message ?? err;
  return withoutSecrets(String(message), endpoint.url);
}

/** The start-up error of a queue that cannot be reached: names the service, never the password. */
export function unreachableQueueError(endpoint: QueueEndpoint, err: unknown): Error {
  const reason = queueErrorText(err, endpoint);
  return new Error(
    `SocketIOModule: cannot reach the message queue, ${endpoint.label}: ${reason || 'connection refused'}`,
    { cause: err },
  );
}
