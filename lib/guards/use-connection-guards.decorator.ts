import type { CanActivate, Type } from '@nestjs/common';

/** Metadata key of `@UseConnectionGuards()`. */
export const CONNECTION_GUARDS_METADATA = 'nest-socketio:connection-guards';

/**
 * Guards that decide, before a client is accepted, whether it may connect to this gateway's
 * namespace. A guard gets an ExecutionContext of type `'ws'` whose client is the socket and whose
 * data is the handshake's `auth` payload; returning false refuses the client, and throwing a
 * `ConnectionRefusedError` refuses it with that message and data.
 */
export function UseConnectionGuards(
  ...guards: (CanActivate | Type<CanActivate>)[]
): ClassDecorator {
  return (target) => {
    const existing: unknown[] = Reflect.getMetadata(CONNECTION_GUARDS_METADATA, target) ?? [];
    Reflect.defineMetadata(CONNECTION_GUARDS_METADATA, [...existing, ...guards], target);
  };
}
