/** A `SocketService` helper named a sid that no process serves. */
export class UnknownClientError extends Error {
  override readonly name = 'UnknownClientError';
  constructor(
    readonly sid: string,
    readonly namespace: string,
  ) {
    super(`No client with sid "${sid}" is connected to namespace "${namespace}"`);
  }
}
