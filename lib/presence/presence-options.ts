import type { PresenceOptions } from './presence.types.js';

export const DEFAULT_HEARTBEAT_INTERVAL = 5000;
export const DEFAULT_TIMEOUT = 15_000;

/** The `presence` option with its defaults filled in. */
export type ResolvedPresenceOptions = Required<PresenceOptions>;

const isPositive = (v: unknown): v is number =>
  typeof v === 'number' && Number.isFinite(v) && v > 0;

/**
 * Checks the `presence` option; returns what is wrong (the option validator prefixes the
 * option's name), or undefined.
 */
export function presenceOptionProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return 'must be { heartbeatInterval?, timeout? }';
  }
  for (const [name, v] of Object.entries(value)) {
    if (name !== 'heartbeatInterval' && name !== 'timeout') {
      return `has an unknown field "${name}" (known: heartbeatInterval, timeout)`;
    }
    if (v !== undefined && !isPositive(v)) return `${name} must be a positive number`;
  }
  const { heartbeatInterval, timeout } = resolvePresenceOptions(value as PresenceOptions);
  // A single late heartbeat must not look like a dead process (Phoenix asks the same).
  if (timeout < 2 * heartbeatInterval) {
    return `timeout (${timeout} ms) must be at least twice heartbeatInterval (${heartbeatInterval} ms)`;
  }
  return undefined;
}

export function resolvePresenceOptions(options: PresenceOptions = {}): ResolvedPresenceOptions {
  return {
    heartbeatInterval: options.heartbeatInterval ?? DEFAULT_HEARTBEAT_INTERVAL,
    timeout: options.timeout ?? DEFAULT_TIMEOUT,
  };
}
