/** Rejects `call()` when the client did not acknowledge in time. */
export class TimeoutError extends Error {
  override readonly name = 'TimeoutError';
  constructor(message = 'The client did not acknowledge in time') {
    super(message);
  }
}
