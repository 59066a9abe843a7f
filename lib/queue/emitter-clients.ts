import type { BroadcastOperator } from '../interfaces/broadcast-operator.interface.js';
import type { MessageQueue } from './message-queue.interface.js';
import type { RemoteClients } from './remote-clients.js';

/**
 * `RemoteClients` of an emitter-only worker: it cannot ask the servers anything, so a change
 * resolves once the queue accepted it, in order before any later emit of this worker.
 */
class EmitterClients implements RemoteClients {
  constructor(
    private readonly emitter: (namespace: string) => BroadcastOperator,
    private readonly flush: () => Promise<void>,
  ) {}

  async join(namespace: string, sid: string, room: string | string[]): Promise<void> {
    this.emitter(namespace).in(sid).socketsJoin(room);
    await this.flush();
  }

  async leave(namespace: string, sid: string, room: string): Promise<void> {
    this.emitter(namespace).in(sid).socketsLeave(room);
    await this.flush();
  }

  async rooms(): Promise<string[]> {
    throw new Error(
      'SocketService.rooms() needs a Socket.IO server; it is not available with emitterOnly: true',
    );
  }

  async disconnect(namespace: string, sid: string): Promise<void> {
    this.emitter(namespace).in(sid).disconnectSockets();
    await this.flush();
  }

  async settle(): Promise<void> {
    await this.flush();
  }
}

/**
 * The `MessageQueue` of an emitter-only worker: one emitter per namespace, built on first use;
 * `flush` resolves once everything published before it has reached the queue.
 */
export function emitterQueue(
  createEmitter: (namespace: string) => BroadcastOperator,
  flush: () => Promise<void>,
  close: () => Promise<void>,
): MessageQueue {
  const emitters = new Map<string, BroadcastOperator>();
  const emitter = (namespace: string): BroadcastOperator => {
    let e = emitters.get(namespace);
    if (!e) emitters.set(namespace, (e = createEmitter(namespace)));
    return e;
  };
  return {
    emitter,
    remoteClients: () => new EmitterClients(emitter, flush),
    probe: flush,
    close: async () => {
      await flush().catch(() => undefined);
      await close();
    },
  };
}
