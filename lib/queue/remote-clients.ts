import { UnknownClientError } from '../errors/unknown-client.error.js';

/**
 * Room, rooms and disconnect helpers for clients that this process does not serve. Without a
 * message queue no other process exists, so the sid is unknown.
 */
export interface RemoteClients {
  join(namespace: string, sid: string, room: string | string[]): Promise<void>;
  leave(namespace: string, sid: string, room: string): Promise<void>;
  rooms(namespace: string, sid: string): Promise<string[]>;
  disconnect(namespace: string, sid: string): Promise<void>;
  /** Resolves once a broadcast room change (of `room`, when given) has reached every process. */
  settle(namespace: string, room?: string): Promise<void>;
}

/** `RemoteClients` of a single process: every sid not served here is unknown. */
export class LocalOnlyClients implements RemoteClients {
  async join(namespace: string, sid: string): Promise<void> {
    throw new UnknownClientError(sid, namespace);
  }
  async leave(namespace: string, sid: string): Promise<void> {
    throw new UnknownClientError(sid, namespace);
  }
  async rooms(namespace: string, sid: string): Promise<string[]> {
    throw new UnknownClientError(sid, namespace);
  }
  async disconnect(namespace: string, sid: string): Promise<void> {
    throw new UnknownClientError(sid, namespace);
  }
  async settle(): Promise<void> {}
}
