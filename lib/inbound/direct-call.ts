import type { Socket } from 'socket.io';
import { WsParamtype } from '../internals/nest.internals.js';

/** One argument of a handler read from the event itself: the client, the data or the ack. */
export type PlainParam = (socket: Socket, data: unknown, ack: unknown) => unknown;

type Method = (...args: unknown[]) => unknown;
/** A direct handler that reads only the client, the data and the ack (a `DirectHandler`). */
type PlainHandler = (socket: Socket, data: unknown, ack: unknown) => unknown;

/**
 * The getter of a `@ConnectedSocket()`, `@MessageBody(property?)` or `@Ack()` parameter, or
 * undefined for any other kind. Nest finds the ack as the first function of its arguments
 * (client, data, ack, ...): data from a client is never a function, so that is the ack or none.
 */
export function plainParam(type: number, property?: string): PlainParam | undefined {
  switch (type) {
    case WsParamtype.SOCKET:
      return (socket) => socket;
    case WsParamtype.PAYLOAD:
      return property
        ? (_socket, data) => (data as Record<string, unknown> | undefined)?.[property]
        : (_socket, data) => data;
    case WsParamtype.ACK:
      return (_socket, _data, ack) => (typeof ack === 'function' ? ack : undefined);
    default:
      return undefined;
  }
}

/**
 * A direct handler whose parameters all come from the event (no custom decorator): it builds
 * no argument list of Nest's shape, only the method's own arguments (one allocation less per
 * event, none for the usual single `@MessageBody()`).
 */
export function plainCall(
  instance: object,
  method: Method,
  params: [index: number, get: PlainParam][],
): PlainHandler {
  if (params.length === 1 && params[0][0] === 0) {
    const get = params[0][1];
    return (socket, data, ack) => method.call(instance, get(socket, data, ack));
  }
  return (socket, data, ack) => {
    const values: unknown[] = [];
    for (let i = 0; i < params.length; i++) values[params[i][0]] = params[i][1](socket, data, ack);
    return method.apply(instance, values);
  };
}
