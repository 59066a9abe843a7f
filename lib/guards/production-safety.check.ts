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

async function opensEveryOrigin(cors: unknown): Promise<boolean> {
  if (cors === undefined || cors === null || cors === false) return false;
  try {
    return await originPolicy(cors as SocketIOCorsOption)(PROBE_ORIGIN, PROBE_REQUEST);
  } catch {
    return false;
  }
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
  if (!(await opensEveryOrigin(cors))) return undefined;
  const credentials = withCredentials(cors) || hasSession;
  return {
    setting,
    problem: credentials
      ? "lets every website open a socket, with credentials: a page on any site can connect with your users' cookies and session and act as them (cross-site WebSocket hijacking)."
      : "lets every website open a socket to this server from its users' browsers.",
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
