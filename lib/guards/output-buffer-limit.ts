import type { Server } from 'socket.io';

/** Default of `maxBufferedBytes`: what one client may have waiting to be sent. */
export const DEFAULT_MAX_BUFFERED_BYTES = 16 * 1024 * 1024;

/** The part of an Engine.IO socket this reads. */
interface EngineSocket {
  writeBuffer: unknown[];
  on(event: 'packetCreate', listener: (packet: { data?: unknown }) => void): void;
  close(discard?: boolean): void;
}

/**
 * The `maxBufferedBytes` option: packets pile up in a connection's Engine.IO write buffer while
 * its client does not read (the transport is busy until the socket drains, or no poll is open).
 * Past the limit the connection is closed and what it held is dropped. Per packet: one listener
 * call; an empty write buffer means everything before was handed to the transport, so the count
 * starts again.
 */
export function limitBufferedOutput(server: Server, maxBytes: number): void {
  server.engine?.on('connection', (conn: EngineSocket) => {
    let buffered = 0;
    conn.on('packetCreate', (packet) => {
      // 'packetCreate' comes before the packet is pushed to the buffer.
      if (conn.writeBuffer.length === 0) buffered = 0;
      const data = packet.data as { length?: number; byteLength?: number } | undefined;
      buffered += data?.byteLength ?? data?.length ?? 1;
      if (buffered > maxBytes) conn.close(true);
    });
  });
}
