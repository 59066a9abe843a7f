import cluster from 'node:cluster';
import type { LoggerService } from '@nestjs/common';
import type {
  SocketIOCorsOption,
  SocketIOModuleOptions,
} from '../interfaces/socket-io-module-options.interface.js';
import { sessionStoreOf } from '../session/session-options.js';
import { originPolicy } from './origin-check.js';

/** One setting the production safety check refuses, with what is wrong and how to fix it. */
export interface UnsafeSetting {
  setting: string;
  problem: string;
  fix: string;
}

/**
 * Thrown at start-up when `NODE_ENV` is `production` and a setting is known to be unsafe there
 * (Flask-SocketIO's refusal to run its development server in production); `allowUnsafe: true`
 * turns each into a logged warning instead.
 */
export class UnsafeConfigurationError extends Error {
  override readonly name = 'UnsafeConfigurationError';
  constructor(readonly settings: UnsafeSetting[]) {
    super(
      `SocketIOModule refuses to start in production (NODE_ENV=production) with ${settings.length} unsafe setting(s):\n` +
        settings.map((s, i) => `${i + 1}. ${describe(s)}`).join('\n') +
        '\nFix them, or set allowUnsafe: true to start anyway (each is then logged as a warning).',
    );
  }
}

function describe(s: UnsafeSetting): string {
  return `${s.setting}: ${s.problem} Fix: ${s.fix}`;
}

/** What the check looks at besides the options; tests may pass their own. */
export interface SafetyEnvironment {
  env: NodeJS.ProcessEnv;
  isClusterWorker: boolean;
}

function currentEnvironment(): SafetyEnvironment {
  return { env: process.env, isClusterWorker: cluster.isWorker };
}

// A made-up origin no one allowed on purpose: a policy that lets it in lets every origin in.
const PROBE_ORIGIN = 'https://nest-socketio-safety-probe.invalid';
const PROBE_REQUEST = { headers: { host: 'server.invalid' } } as never;
const HOST_NAME = /[a-z0-9-]+(?:\.[a-z0-9-]+)+/gi;

/** The host names a policy mentions: in its strings, its RegExps' sources, its functions' code. */
function mentionedHosts(cors: unknown): Set<string> {
  const hosts = new Set<string>();
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) return value.forEach(visit);
    if (value && typeof value === 'object' && !(value instanceof RegExp)) {
      return visit((value as { origin?: unknown }).origin);
    }
    const text =
      value instanceof RegExp
        ? value.source.replace(/\\/g, '')
        : typeof value === 'function' || typeof value === 'string'
          ? String(value)
          : '';
    for (const host of text.match(HOST_NAME) ?? []) {
      hosts.add(host.toLowerCase());
    }
  };
  visit(cors);
  return hosts;
}

/**
 * Hostile origins to try a policy with: the opaque origin `null` (sandboxed frames, files),
 * a made-up one, and look-alikes of each host it mentions (a suffix glued on, a prefix,
 * another scheme), which a RegExp without anchors or an `endsWith` check lets in.
 */
function hostileOrigins(cors: unknown): string[] {
  const probes = [PROBE_ORIGIN, 'null', PROBE_ORIGIN.replace('https:', 'http:')];
  for (const host of mentionedHosts(cors)) {
    probes.push(`https://evil${host}`, `https://${host}.evil.invalid`, `http://evil-${host}`);
  }
  return probes;
}

/** The first hostile origin the policy lets in, if any. */
async function letsInHostileOrigin(cors: unknown): Promise<string | undefined> {
  if (cors === undefined || cors === null || cors === false) return undefined;
  const policy = originPolicy(cors as SocketIOCorsOption);
  for (const origin of hostileOrigins(cors)) {
    try {
      if (await policy(origin, PROBE_REQUEST)) return origin;
    } catch {
      // A policy that throws refuses.
    }
  }
  return undefined;
}

function withCredentials(cors: unknown): boolean {
  return (
    typeof cors === 'object' &&
    cors !== null &&
    (cors as { credentials?: unknown }).credentials === true
  );
}

async function corsProblem(
  setting: string,
  cors: unknown,
  hasSession: boolean,
): Promise<UnsafeSetting | undefined> {
  const hostile = await letsInHostileOrigin(cors);
  if (hostile === undefined) return undefined;
  const credentials = withCredentials(cors) || hasSession;
  const who =
    hostile === PROBE_ORIGIN
      ? 'lets every website open a socket'
      : `lets in the origin ${hostile}, which no one allowed on purpose (a look-alike, another scheme or a sandboxed page): such a website can open a socket`;
  return {
    setting,
    problem: credentials
      ? `${who}, with credentials: a page on any site can connect with your users' cookies and session and act as them (cross-site WebSocket hijacking).`
      : `${who} to this server from its users' browsers.`,
    fix: "list the origins that may connect, e.g. cors: ['https://app.example.com'] (or leave cors unset for same origin only).",
  };
}

function severalProcesses({ env, isClusterWorker }: SafetyEnvironment): string | undefined {
  const instances = Number(env.instances);
  if (isClusterWorker && env.instances !== '1') return 'a node cluster worker';
  if (instances > 1) return `one of ${instances} pm2 instances`;
  if (Number(env.NODE_APP_INSTANCE) > 0) return `pm2 instance ${env.NODE_APP_INSTANCE}`;
  return undefined;
}

/** A gateway's own `cors` option (`@WebSocketGateway({ cors })`). */
export interface GatewayCors {
  name: string;
  cors: unknown;
}

/** Every unsafe setting of these options in this environment, production or not. */
export async function findUnsafeSettings(
  options: SocketIOModuleOptions,
  gateways: GatewayCors[] = [],
  environment: SafetyEnvironment = currentEnvironment(),
): Promise<UnsafeSetting[]> {
  const found: UnsafeSetting[] = [];
  const hasSession = options.session !== undefined;
  const candidates: [string, unknown][] = [
    ['cors', options.cors],
    ...gateways.map(
      ({ name, cors }) => [`@WebSocketGateway({ cors }) of ${name}`, cors] as [string, unknown],
    ),
  ];
  for (const [setting, cors] of candidates) {
    const problem = await corsProblem(setting, cors, hasSession);
    if (problem) found.push(problem);
  }
  if (options.session) {
    const store = await sessionStoreOf(options.session);
    if (store?.constructor?.name === 'MemoryStore') {
      found.push({
        setting: 'session',
        problem:
          "uses express-session's default MemoryStore, which leaks memory, loses every session on restart and is not shared between processes (its own docs say it is not for production).",
        fix: 'give express-session a real store, e.g. store: new RedisStore({ client }) from connect-redis.',
      });
    }
  }
  if (options.adminUi && options.adminUi.auth === false) {
    found.push({
      setting: 'adminUi',
      problem:
        'serves the Socket.IO admin UI without authentication: anyone who reaches the server can list every client, read their data and disconnect them.',
      fix: 'give it auth: { username, password: <bcrypt hash> } (or leave adminUi unset in production).',
    });
  }
  const processes = severalProcesses(environment);
  const queued =
    options.messageQueue !== undefined ||
    options.adapter !== undefined ||
    options.serverOptions?.adapter !== undefined;
  if (processes && !queued) {
    found.push({
      setting: 'messageQueue',
      problem: `is not set, but this process is ${processes}: rooms, broadcasts and SocketService calls would silently reach only the clients of this process.`,
      fix: "set messageQueue: 'redis://…' (or 'postgres://…') so every process serves every client, and use sticky sessions or transports: ['websocket'].",
    });
  }
  return found;
}

/**
 * In production (`NODE_ENV=production`), throws an `UnsafeConfigurationError` listing every
 * unsafe setting, or with `allowUnsafe: true` logs each as a warning. Does nothing elsewhere.
 */
export async function checkProductionSafety(
  options: SocketIOModuleOptions,
  logger: LoggerService,
  gateways: GatewayCors[] = [],
  environment: SafetyEnvironment = currentEnvironment(),
): Promise<void> {
  if (environment.env.NODE_ENV !== 'production' || options.emitterOnly) return;
  const unsafe = await findUnsafeSettings(options, gateways, environment);
  if (unsafe.length === 0) return;
  if (!options.allowUnsafe) throw new UnsafeConfigurationError(unsafe);
  for (const setting of unsafe) {
    logger.warn(`Unsafe in production (allowed by allowUnsafe): ${describe(setting)}`);
  }
}
