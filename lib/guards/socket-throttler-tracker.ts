import type { ExecutionContext } from '@nestjs/common';

/**
 * A `getTracker` for `@nestjs/throttler` that keys a socket by its client's address (for HTTP,
 * `req.ip`, as the throttler's own): its default reads `req.ip`, which a socket does not have,
 * so every socket would share one bucket and one client's events throttle everyone's.
 * @example ThrottlerModule.forRoot({ throttlers: [{ limit: 20, ttl: 1000 }], getTracker: socketThrottlerTracker })
 */
export function socketThrottlerTracker(
  req: Record<string, any>,
  context?: ExecutionContext,
): string {
  if (context?.getType() === 'ws' || req?.handshake !== undefined) {
    return String(req.handshake?.address ?? '');
  }
  return String(req?.ip ?? '');
}
