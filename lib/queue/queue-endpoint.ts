import type { MessageQueueOptions } from '../interfaces/socket-io-module-options.interface.js';

/** Which service a message queue talks to and where, for messages that must never show a password. */
export interface QueueEndpoint {
  readonly type: MessageQueueOptions['type'];
  readonly url: string;
  /** `Redis at 127.0.0.1:6379`, `NATS at nats:4222`: host and port only. */
  readonly label: string;
  readonly adapterOptions: Record<string, unknown>;
}

/** Normalises the string and object forms of the `messageQueue` option. */
export function queueEndpoint(option: string | MessageQueueOptions): QueueEndpoint {
  const { type, url, adapterOptions } =
    typeof option === 'string'
      ? { type: typeFromUrl(option), url: option, adapterOptions: {} }
      : option;
  return {
    type,
    url,
    adapterOptions: adapterOptions ?? {},
    label: `${SERVICES[type]} at ${hostOf(url)}`,
  };
}

const SERVICES: Record<MessageQueueOptions['type'], string> = {
  redis: 'Redis',
  'redis-sharded': 'Redis',
  'redis-streams': 'Redis',
  postgres: 'PostgreSQL',
  amqp: 'AMQP broker',
  nats: 'NATS',
};

function typeFromUrl(url: string): MessageQueueOptions['type'] {
  if (/^postgres(ql)?:/i.test(url)) return 'postgres';
  if (/^amqps?:/i.test(url)) return 'amqp';
  if (/^nats:/i.test(url)) return 'nats';
  return 'redis';
}

const DEFAULT_PORTS: Record<string, string> = {
  'postgres:': '5432',
  'postgresql:': '5432',
  'amqp:': '5672',
  'amqps:': '5671',
  'nats:': '4222',
  'tls:': '4222',
};

/** `host:port` of a URL, with the default port of its scheme; never its credentials. */
function hostOf(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return '(an unparsable URL)';
  }
  const fallback = DEFAULT_PORTS[parsed.protocol.toLowerCase()] ?? '6379';
  return `${parsed.hostname || 'localhost'}:${parsed.port || fallback}`;
}

/** Removes the credentials of any URL a driver may have put into an error message. */
export function withoutSecrets(message: string, url: string): string {
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
