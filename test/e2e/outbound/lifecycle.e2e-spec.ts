import { setTimeout as delay } from 'node:timers/promises';
import { MessageBody, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { afterEach, describe, expect, it } from 'vitest';
import { SocketIOModule, SocketService } from 'nest-socketio';
import { client, closeClients, connect, next, startApp } from '../../support/app.js';
import { connectError, disconnected } from '../../support/client-events.js';

@WebSocketGateway()
class EchoGateway {
  @SubscribeMessage('echo')
  echo(@MessageBody() data: unknown) {
    return data;
  }
}

describe('SocketService lifecycle', () => {
  afterEach(() => closeClients());

  it('app.close() aborts background tasks and waits for them to finish', async () => {
    const { app, url } = await startApp({
      imports: [SocketIOModule.forRoot()],
      providers: [EchoGateway],
    });
    const sockets = app.get(SocketService);
    const c = await connect(url);
    const steps: string[] = [];
    let reason: unknown;
    const firstTick = next(c, 'tick');
    const task = sockets.startBackgroundTask(async (signal) => {
      while (!signal.aborted) {
        sockets.emit('tick', Date.now());
        await sockets.sleep(20);
      }
      reason = signal.reason;
      steps.push('aborted');
      // Cleanup that takes time: close() must wait for it.
      await delay(100);
      steps.push('cleaned up');
    });
    await firstTick;
    const gone = disconnected(c);
    await app.close();
    steps.push('closed');
    expect(steps).toEqual(['aborted', 'cleaned up', 'closed']);
    expect(task.running).toBe(false);
    expect(String(reason)).toContain('The application is closing');
    // Shutdown closes the transport (the client would reconnect), not a server-side disconnect.
    expect(await gone).toBe('transport close');
  });

  it('app.close() rejects a pending call at once and leaves no timer behind', async () => {
    const { app, url } = await startApp({
      imports: [SocketIOModule.forRoot()],
      providers: [EchoGateway],
    });
    const sockets = app.get(SocketService);
    const c = await connect(url);
    const asked = next(c, 'question');
    const timersBefore = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const pending = sockets.call('question', 1, { to: c.id!, timeout: 60_000 }).then(
      () => new Error('resolved'),
      (e: unknown) => e as Error,
    );
    await asked;
    const started = Date.now();
    await app.close();
    const err = await pending;
    expect(err.name).toBe('UnknownClientError');
    expect(Date.now() - started).toBeLessThan(2000);
    const timersAfter = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    expect(timersAfter).toBeLessThanOrEqual(timersBefore);
  });

  it('a task that fails is logged and does not stop the app', async () => {
    const errors: string[] = [];
    const logger = {
      log() {},
      warn() {},
      error: (message: string) => errors.push(message),
    };
    const { app, url } = await startApp({
      imports: [SocketIOModule.forRoot({ logger })],
      providers: [EchoGateway],
    });
    try {
      const sockets = app.get(SocketService);
      const task = sockets.startBackgroundTask(async () => {
        throw new Error('task broke');
      });
      await task.done;
      expect(errors.some((m) => m.includes('Background task failed: task broke'))).toBe(true);
      const c = await connect(url);
      expect(await c.emitWithAck('echo', 'still here')).toBe('still here');
    } finally {
      await app.close();
    }
  });

  it('stop() drains tasks, disconnects every client and stops serving', async () => {
    const { app, url } = await startApp({
      imports: [SocketIOModule.forRoot()],
      providers: [EchoGateway],
    });
    try {
      const sockets = app.get(SocketService);
      const c = await connect(url);
      let finished = false;
      sockets.startBackgroundTask(async (signal) => {
        await sockets.sleep(60_000, signal);
        finished = true;
      });
      const gone = disconnected(c);
      await sockets.stop();
      expect(finished).toBe(true);
      expect(await gone).toBe('transport close');
      const refused = await connectError(client(url));
      expect(refused.message).toBeTruthy();
      // The HTTP server itself is Nest's and keeps running until app.close().
      expect((await fetch(`${url}/nothing`)).status).toBe(404);
    } finally {
      await app.close();
    }
  });
});
