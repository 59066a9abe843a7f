import { Injectable } from '@nestjs/common';
import { SocketIOAdapter } from '../socket-io.adapter.js';

/** How long the message queue may take to answer a health check. */
const PROBE_TIMEOUT_MS = 3000;

/** What `SocketIOHealthIndicator.isHealthy()` reports under its key. */
export interface SocketIOHealthDetails {
  status: 'up' | 'down';
  /** Why it is down. */
  reason?: string;
  /** Clients connected to this process, per namespace. */
  namespaces: Record<string, number>;
  connections: number;
  /** `up`, `down`, or absent without a message queue. */
  messageQueue?: 'up' | 'down';
}

/**
 * A health indicator for @nestjs/terminus: up while the Socket.IO server serves and its message
 * queue (if any) answers, down with the reason otherwise; its details count the connections per
 * namespace. It returns terminus' result shape itself, so this module never imports terminus.
 *
 * @example
 * ```ts
 * @Get('health') @HealthCheck()
 * check() { return this.health.check([() => this.socketio.isHealthy('socketio')]); }
 * ```
 */
@Injectable()
export class SocketIOHealthIndicator {
  constructor(private readonly adapter: SocketIOAdapter) {}

  async isHealthy<const Key extends string = 'socketio'>(
    key: Key = 'socketio' as Key,
  ): Promise<Record<Key, SocketIOHealthDetails>> {
    const namespaces: Record<string, number> = {};
    let connections = 0;
    const servers = this.adapter.allServers;
    for (const server of servers) {
      for (const [name, nsp] of server._nsps) {
        namespaces[name] = (namespaces[name] ?? 0) + nsp.sockets.size;
        connections += nsp.sockets.size;
      }
    }
    const details: SocketIOHealthDetails = { status: 'up', namespaces, connections };
    const reasons: string[] = [];
    const main = this.adapter.server;
    if (!this.adapter.options.emitterOnly) {
      if (!main || !this.adapter.isServing(main))
        reasons.push('the Socket.IO server is not serving');
      else if (main.httpServer && !main.httpServer.listening) {
        reasons.push('the HTTP server is not listening');
      }
    }
    if (this.adapter.hasMessageQueue) {
      const problem = await this.queueProblem();
      details.messageQueue = problem ? 'down' : 'up';
      if (problem) reasons.push(`message queue unreachable: ${problem}`);
    }
    if (reasons.length) {
      details.status = 'down';
      details.reason = reasons.join('; ');
    }
    return { [key]: details } as Record<Key, SocketIOHealthDetails>;
  }

  private async queueProblem(): Promise<string | undefined> {
    const known = this.adapter.observability.queueProblem;
    if (known) return known;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.adapter.probeQueue(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer within ${PROBE_TIMEOUT_MS} ms`)),
            PROBE_TIMEOUT_MS,
          );
        }),
      ]);
      return undefined;
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    } finally {
      clearTimeout(timer);
    }
  }
}
