/**
 * Thrown by a connection guard or `handleConnection` to refuse a client: the client receives
 * `connect_error` with `{ message, data }` (Flask-SocketIO's `ConnectionRefusedError`).
 */
export class ConnectionRefusedError extends Error {
  override readonly name = 'ConnectionRefusedError';
  constructor(
    message = 'Connection rejected by server',
    readonly data?: unknown,
  ) {
    super(message);
  }
}
