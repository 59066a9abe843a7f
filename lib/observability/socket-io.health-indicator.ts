import { Inject, Injectable } from '@nestjs/common';
import { MessageQueue } from '../queue/message-queue.interface.js';
import { SocketServers } from '../outbound/socket-servers.js';
import { SocketIOConfig } from '../socket-io.config.js';
import { namespacesOf } from '../internals/socket-io.internals.js';
import { SocketObservability } from './socket-observability.js';

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
  constructor(
    @Inject(SocketIOConfig) private readonly config: SocketIOConfig,
    @Inject(SocketServers) private readonly servers: SocketServers,
    @Inject(MessageQueue) private readonly queue: MessageQueue,
    @Inject(SocketObservability) private readonly observability: SocketObservability,
  ) {}

  /** The health of this process's Socket.IO server and message queue, under `key`. */
  async isHealthy<const Key extends string = 'socketio'>(
    key: Key = 'socketio' as Key,
  ): Promise<Record<Key, SocketIOHealthDetails>> {
    const namespaces: Record<string, number> = {};
    let connections = 0;
    for (const server of this.servers.all) {
      for (const nsp of namespacesOf(server)) {
        namespaces[nsp.name] = (namespaces[nsp.name] ?? 0) + nsp.sockets.size;
        connections += nsp.sockets.size;
      }
    }
    const details: SocketIOHealthDetails = { status: 'up', namespaces, connections };
    const reasons: string[] = [];
    const main = this.servers.server;
    if (!this.config.options.emitterOnly) {
      if (!main || !this.servers.isServing(main)) {
        reasons.push('the Socket.IO server is not serving');
      } else if (main.httpServer && !main.httpServer.listening) {
        reasons.push('the HTTP server is not listening');
      }
    }
    if (this.servers.hasMessageQueue || this.config.options.emitterOnly) {
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

  /** Known from the queue's own clients first, else a probe within a time limit. */
  private async queueProblem(): Promise<string | undefined> {
    const known = this.observability.queueProblem;
    if (known) return known;
    if (!this.queue.probe) return undefined;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.queue.probe(),
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
