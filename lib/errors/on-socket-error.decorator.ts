import { SetMetadata } from '@nestjs/common';

/** Metadata key of `@OnSocketError()`. */
export const ON_SOCKET_ERROR_METADATA = 'nest-socketio:on-socket-error';

/**
 * Marks a gateway method as the error handler of the gateway's namespace (Flask-SocketIO's
 * `on_error`): it is called with the error and the `SocketContext`, and what it returns (unless
 * `undefined`) is sent to the client instead of the default error reply.
 */
export const OnSocketError = (): MethodDecorator => SetMetadata(ON_SOCKET_ERROR_METADATA, true);
