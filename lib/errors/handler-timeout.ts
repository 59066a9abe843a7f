import { SocketError } from './error-reply.js';

/**
 * The `handlerTimeout` option: a handler's promise that has not settled after `ms` rejects with
 * status 504, and its late result is dropped. The handler itself keeps running (JavaScript cannot
 * cancel it); use an `AbortSignal` of your own when it holds resources.
 */
export class HandlerTimeout {
  constructor(private readonly ms: number) {}

  /** The handler's result, or a 504 `SocketError` when it takes longer than the limit. */
  race<T>(pending: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      // `limit` and `ms` tell the observability hooks (logs, channels, metrics) what happened.
      const refusal = () =>
        reject(
          Object.assign(new SocketError(504, 'Gateway Timeout'), { limit: 'time', ms: this.ms }),
        );
      const timer = setTimeout(refusal, this.ms);
      // A timer must not keep a stopping process alive: its client is gone by then anyway.
      timer.unref();
      pending.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (err: unknown) => {
          clearTimeout(timer);
          reject(err);
        },
      );
    });
  }
}
