import {
  BadRequestException,
  createParamDecorator,
  Injectable,
  type PipeTransform,
} from '@nestjs/common';
import { MessageBody, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { describe, expect, it } from 'vitest';
import { SocketIOModule } from 'nest-socketio';
import { appWithClient } from '../../support/app.js';

// Edges of the fast paths where Nest's chain awaits something the direct call must await too.

@Injectable()
class SlowRejectingPipe implements PipeTransform {
  async transform(): Promise<never> {
    await new Promise((resolve) => setTimeout(resolve, 20));
    throw new BadRequestException('slow pipe refused');
  }
}

@Injectable()
class SyncRejectingPipe implements PipeTransform {
  transform(): never {
    throw new BadRequestException('sync pipe refused');
  }
}

/** A custom parameter decorator whose value is looked up asynchronously. */
const LoadedUser = createParamDecorator(async () => {
  await new Promise((resolve) => setTimeout(resolve, 5));
  return 'ada';
});

@WebSocketGateway()
class EdgesGateway {
  @SubscribeMessage('two-pipes') twoPipes(
    @MessageBody('a', SlowRejectingPipe) a: unknown,
    @MessageBody('b', SyncRejectingPipe) b: unknown,
  ) {
    return { a, b };
  }

  @SubscribeMessage('loaded-user') loadedUser(@LoadedUser() user: unknown) {
    return typeof user === 'string' ? `user ${user}` : `not awaited: ${typeof user}`;
  }

  @SubscribeMessage('ping') ping() {
    return 'pong';
  }
}

describe('fast-path edges', () => {
  const started = appWithClient({
    imports: [SocketIOModule.forRoot()],
    providers: [EdgesGateway],
  });

  it('answers the first pipe error and leaves no unhandled rejection from the other parameter', async () => {
    const reply = await started.client.timeout(3000).emitWithAck('two-pipes', { a: 1, b: 2 });
    expect(JSON.stringify(reply)).toContain('sync pipe refused');
    // The slow pipe rejects after the reply: the process must still be serving afterwards.
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(await started.client.timeout(3000).emitWithAck('ping')).toBe('pong');
  });

  it('awaits an async custom parameter decorator on a directly called handler', async () => {
    expect(await started.client.timeout(3000).emitWithAck('loaded-user')).toBe('user ada');
  });
});
