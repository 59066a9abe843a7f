/** Injection token of the module options (`@InjectSocketIOOptions()`). */
export const SOCKET_IO_MODULE_OPTIONS = 'SOCKET_IO:MODULE_OPTIONS';
/** Default Socket.IO path. */
export const DEFAULT_PATH = '/socket.io';
/** Default message-queue channel (key prefix). */
export const DEFAULT_CHANNEL = 'nest-socketio';
/** Default timeout of `call()`, in milliseconds. */
export const DEFAULT_CALL_TIMEOUT = 60_000;
/** Logger context of the module. */
export const LOGGER_CONTEXT = 'SocketIO';
