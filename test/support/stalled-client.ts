import type { Socket as ServerSocket } from 'socket.io';
import type { Socket as ClientSocket } from 'socket.io-client';

/**
 * Stops a websocket client from reading (its TCP socket is paused), so what the server sends
 * piles up in the server's buffers. `closed` turns true once the server drops the client;
 * `gone` resolves with the server-side disconnect reason; `release()` destroys the TCP socket.
 */
export function stallReading(client: ClientSocket, onServer: ServerSocket) {
  const gone = new Promise<string>((resolve) => onServer.once('disconnect', resolve));
  const state = { closed: false, gone, release: () => tcp.destroy() };
  void gone.then(() => (state.closed = true));
  const tcp = (
    client.io.engine.transport as unknown as {
      ws: { _socket: { pause(): void; destroy(): void } };
    }
  ).ws._socket;
  tcp.pause();
  return state;
}
