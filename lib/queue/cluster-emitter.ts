import type { BroadcastOperator } from '../interfaces/broadcast-operator.interface.js';

/** The sender uid that socket.io-adapter's cluster protocol reserves for emitters (never counted as a server). */
const EMITTER_UID = 'emitter';
/** socket.io-parser's EVENT packet type. */
const EVENT = 2;
/** `MessageType` values of socket.io-adapter's cluster protocol. */
const BROADCAST = 3;
const SOCKETS_JOIN = 4;
const SOCKETS_LEAVE = 5;
const DISCONNECT_SOCKETS = 6;

const RESERVED_EVENTS = new Set([
  'connect',
  'connect_error',
  'disconnect',
  'disconnecting',
  'newListener',
  'removeListener',
]);

interface Target {
  readonly rooms: ReadonlySet<string>;
  readonly except: ReadonlySet<string>;
  readonly flags: Readonly<Record<string, unknown>>;
}

/**
 * A broadcast operator of an emitter-only worker that speaks socket.io's cluster protocol (the
 * one `ClusterAdapterWithHeartbeat` servers read): each call becomes one cluster message, handed
 * to `publish` in call order.
 */
export class ClusterEmitter implements BroadcastOperator {
  constructor(
    private readonly namespace: string,
    private readonly publish: (message: Record<string, unknown>) => void,
    private readonly target: Target = { rooms: new Set(), except: new Set(), flags: {} },
  ) {}

  to(room: string | string[]): ClusterEmitter {
    return this.with({ rooms: new Set([...this.target.rooms, ...([] as string[]).concat(room)]) });
  }

  in(room: string | string[]): ClusterEmitter {
    return this.to(room);
  }

  except(room: string | string[]): ClusterEmitter {
    return this.with({
      except: new Set([...this.target.except, ...([] as string[]).concat(room)]),
    });
  }

  compress(compress: boolean): ClusterEmitter {
    return this.with({ flags: { ...this.target.flags, compress } });
  }

  get volatile(): ClusterEmitter {
    return this.with({ flags: { ...this.target.flags, volatile: true } });
  }

  emit(event: string, ...args: unknown[]): true {
    if (RESERVED_EVENTS.has(event)) throw new Error(`"${event}" is a reserved event name`);
    this.send(BROADCAST, {
      packet: { type: EVENT, data: [event, ...args], nsp: this.namespace },
      opts: this.opts(),
    });
    return true;
  }

  socketsJoin(room: string | string[]): void {
    this.send(SOCKETS_JOIN, { opts: this.opts(), rooms: ([] as string[]).concat(room) });
  }

  socketsLeave(room: string | string[]): void {
    this.send(SOCKETS_LEAVE, { opts: this.opts(), rooms: ([] as string[]).concat(room) });
  }

  disconnectSockets(close = false): void {
    this.send(DISCONNECT_SOCKETS, { opts: this.opts(), close });
  }

  private send(type: number, data: Record<string, unknown>): void {
    this.publish({ uid: EMITTER_UID, nsp: this.namespace, type, data });
  }

  private opts() {
    return {
      rooms: [...this.target.rooms],
      except: [...this.target.except],
      flags: this.target.flags,
    };
  }

  private with(change: Partial<Target>): ClusterEmitter {
    return new ClusterEmitter(this.namespace, this.publish, { ...this.target, ...change });
  }
}
