import {
  BadRequestException,
  ForbiddenException,
  HttpException,
  NotFoundException,
} from '@nestjs/common';
import { WsException } from '@nestjs/websockets';
import { describe, expect, it } from 'vitest';
import { ConnectionRefusedError, SocketError, TimeoutError } from 'nest-socketio';
import { toErrorReply } from '../../../lib/errors/error-reply.js';

describe('toErrorReply', () => {
  it('an HttpException keeps its status and message', () => {
    expect(toErrorReply(new NotFoundException('No such room'))).toEqual({
      reply: { error: { status: 404, message: 'No such room' } },
      expected: true,
    });
    expect(toErrorReply(new HttpException('Teapot', 418)).reply).toEqual({
      error: { status: 418, message: 'Teapot' },
    });
  });

  it('keeps validation messages as a list and extra fields as data', () => {
    const validation = new BadRequestException(['a must be a string', 'b must be an integer']);
    expect(toErrorReply(validation).reply).toEqual({
      error: { status: 400, message: ['a must be a string', 'b must be an integer'] },
    });
    const detailed = new ForbiddenException({ message: 'Nope', reason: 'banned' });
    expect(toErrorReply(detailed).reply).toEqual({
      error: { status: 403, message: 'Nope', data: { reason: 'banned' } },
    });
  });

  it('WsException: a string is a 400 (403 for Forbidden resource), an object may set its status', () => {
    expect(toErrorReply(new WsException('Bad input')).reply).toEqual({
      error: { status: 400, message: 'Bad input' },
    });
    expect(toErrorReply(new WsException('Forbidden resource')).reply.error.status).toBe(403);
    expect(
      toErrorReply(new WsException({ status: 422, message: 'Odd', field: 'x' })).reply,
    ).toEqual({ error: { status: 422, message: 'Odd', data: { field: 'x' } } });
  });

  it('SocketError and ConnectionRefusedError carry their own data', () => {
    expect(toErrorReply(new SocketError(409, 'Taken', { id: 1 })).reply).toEqual({
      error: { status: 409, message: 'Taken', data: { id: 1 } },
    });
    expect(toErrorReply(new ConnectionRefusedError('Go away', { retry: false })).reply).toEqual({
      error: { status: 403, message: 'Go away', data: { retry: false } },
    });
  });

  it('anything else is a 500 with no internals, and is not expected (so it is logged)', () => {
    for (const err of [new Error('db password=x'), new TimeoutError(), 'string', null, 42]) {
      expect(toErrorReply(err)).toEqual({
        reply: { error: { status: 500, message: 'Internal server error' } },
        expected: false,
      });
    }
  });
});
