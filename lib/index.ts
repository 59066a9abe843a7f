export { SocketIOModule } from './socket-io.module.js';
export { InjectSocketIOOptions } from './socket-io.module-definition.js';
export { SOCKET_IO_MODULE_OPTIONS } from './socket-io.constants.js';
export { SocketIOAdapter } from './inbound/socket-io.adapter.js';
export { SocketService } from './outbound/socket.service.js';
export { SocketContext, Sid, EventName, SocketSession } from './context/socket-context.js';
export { InvalidSocketIOOptionError } from './socket-io.options.js';
export { MissingDependencyError } from './load-optional.js';
export { ConnectionRefusedError } from './errors/connection-refused.error.js';
export { TimeoutError } from './errors/timeout.error.js';
export { UnknownClientError } from './errors/unknown-client.error.js';
export { SocketError, type SocketErrorReply } from './errors/error-reply.js';
export { OnSocketError } from './errors/on-socket-error.decorator.js';
export { SocketExceptionFilter } from './errors/socket-exception.filter.js';
export { UseConnectionGuards } from './guards/use-connection-guards.decorator.js';
export { socketThrottlerTracker } from './guards/socket-throttler-tracker.js';
export { UnsafeConfigurationError, type UnsafeSetting } from './guards/production-safety.check.js';
export { IncompatibleSocketIOError, type SocketIOCopy } from './guards/install-check.js';
export { SessionInterceptor } from './session/session.interceptor.js';
export {
  SocketIOHealthIndicator,
  type SocketIOHealthDetails,
} from './observability/socket-io.health-indicator.js';
export {
  EVENT_CHANNEL,
  CONNECTION_CHANNEL,
  ERROR_CHANNEL,
  QUEUE_CHANNEL,
  type SocketEventMessage,
  type SocketEventOutcome,
  type SocketConnectionMessage,
  type SocketErrorMessage,
  type SocketQueueMessage,
} from './observability/diagnostics.js';
export { PresenceService } from './presence/presence.service.js';
export type {
  PresenceDiff,
  PresenceMeta,
  PresenceOptions,
  PresenceState,
} from './presence/presence.types.js';
export type {
  BroadcastSlicingOptions,
  SocketIOModuleOptions,
  SocketIOModuleAsyncOptions,
  SocketIOOptionsFactory,
  SocketIOCorsOption,
  MessageQueueOptions,
  SocketErrorHandler,
  SessionMiddleware,
  RateLimitOptions,
  AdminUiOptions,
} from './interfaces/socket-io-module-options.interface.js';
export type {
  EmitOptions,
  CallOptions,
  SidOptions,
  BackgroundTask,
  EventsMap,
} from './interfaces/socket-service.interface.js';
export type { WsEngineOption, WsServerClass } from './outbound/ws-engine.js';
