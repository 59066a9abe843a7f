import { HttpException } from '@nestjs/common';
import { WsException } from '@nestjs/websockets';
import { ConnectionRefusedError } from './connection-refused.error.js';

/** What a client receives for a failed event: through its ack, or as an `exception` event. */
export interface SocketErrorReply {
  error: { status: number; message: string | string[]; data?: unknown };
}

const FORBIDDEN = 'Forbidden resource';
const INTERNAL = 'Internal server error';

/** Thrown (or rejected) to answer a client with a status of its own choosing. */
export class SocketError extends Error {
  override readonly name = 'SocketError';
  constructor(
    readonly status: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
  }
}

/**
 * Turns any error into the reply a client may see: HTTP exceptions keep their status and
 * message, anything unexpected is a 500 with no internals. `expected` is false for the latter,
 * which the caller logs with its stack.
 */
export function toErrorReply(err: unknown): { reply: SocketErrorReply; expected: boolean } {
  if (err instanceof HttpException) {
    const response = err.getResponse();
    let message: string | string[] = err.message;
    let data: unknown;
    if (typeof response === 'string') {
      message = response;
    } else if (response && typeof response === 'object') {
      const {
        message: m,
        statusCode: _s,
        error: _e,
        ...rest
      } = response as Record<string, unknown>;
      if (typeof m === 'string' || (Array.isArray(m) && m.every((x) => typeof x === 'string'))) {
        message = m as string | string[];
      }
      if (Object.keys(rest).length > 0) data = rest;
    }
    return { reply: reply(err.getStatus(), message, data), expected: true };
  }
  if (err instanceof WsException) {
    const error = err.getError();
    if (typeof error === 'string') {
      return { reply: reply(error === FORBIDDEN ? 403 : 400, error), expected: true };
    }
    const { status, message, ...rest } = (error ?? {}) as Record<string, unknown>;
    return {
      reply: reply(
        typeof status === 'number' ? status : 400,
        typeof message === 'string' ? message : 'Bad request',
        Object.keys(rest).length > 0 ? rest : undefined,
      ),
      expected: true,
    };
  }
  if (err instanceof SocketError) {
    return { reply: reply(err.status, err.message, err.data), expected: true };
  }
  if (err instanceof ConnectionRefusedError) {
    return { reply: reply(403, err.message, err.data), expected: true };
  }
  return { reply: reply(500, INTERNAL), expected: false };
}

function reply(status: number, message: string | string[], data?: unknown): SocketErrorReply {
  return data === undefined ? { error: { status, message } } : { error: { status, message, data } };
}
