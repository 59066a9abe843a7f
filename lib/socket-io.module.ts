import {
  Inject,
  Module,
  type DynamicModule,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { ApplicationConfig, DiscoveryModule, DiscoveryService } from '@nestjs/core';
import { SOCKET_IO_MODULE_OPTIONS } from './socket-io.constants.js';
import {
  ConfigurableSocketIOModule,
  SOCKET_IO_ASYNC_OPTIONS_TYPE,
  SOCKET_IO_OPTIONS_TYPE,
} from './socket-io.module-definition.js';
import { resolveSocketIOConfig, SocketIOConfig } from './socket-io.config.js';
import { MessageQueue } from './queue/message-queue.interface.js';
import { PresenceService } from './presence/presence.service.js';
import { createMessageQueue } from './queue/create-message-queue.js';
import { GatewayRegistry } from './inbound/gateway-registry.js';
import { SocketIOAdapter } from './inbound/socket-io.adapter.js';
import { EventDispatcher } from './inbound/event-dispatcher.js';
import { DirectHandlers } from './inbound/direct-handlers.js';
import { SocketServers } from './outbound/socket-servers.js';
import { SocketService } from './outbound/socket.service.js';
import { SocketContext } from './context/socket-context.js';
import { SocketContextStorage } from './context/socket-context.storage.js';
import { SocketErrors } from './errors/socket-errors.js';
import { ConnectionAdmission } from './guards/connection-admission.js';
import { NamespaceAdmissionLimit } from './guards/namespace-admission-limit.js';
import { RateLimit } from './guards/rate-limit.js';
import { checkProductionSafety } from './guards/production-safety.check.js';
import { warnIfAdapterReplaced } from './guards/adapter-replaced.check.js';
import { SocketObservability } from './observability/socket-observability.js';
import { SocketIOHealthIndicator } from './observability/socket-io.health-indicator.js';

/** The gateways, once the start-up checks that read them have passed. */
async function createGatewayRegistry(
  discovery: DiscoveryService,
  config: SocketIOConfig,
): Promise<GatewayRegistry> {
  const gateways = new GatewayRegistry(discovery, config);
  await checkProductionSafety(config.options, config.logger, gateways.corsOptions());
  return gateways;
}

/**
 * Configures Socket.IO for every gateway of the application (Flask-SocketIO's `SocketIO(app)`):
 * importing it installs the gateway adapter and provides `SocketService` and `SocketContext`.
 *
 * Its providers are the architecture, in the order a message flows: the options
 * (`SocketIOConfig`), the `MessageQueue`, the `GatewayRegistry`, the error responder
 * (`SocketErrors`), the `ConnectionAdmission`, the `EventDispatcher` and its `DirectHandlers`,
 * the adapter (inbound), and `SocketServers` under `SocketService` and `SocketContext`
 * (outbound). Each can be replaced in a test with `overrideProvider`.
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    {
      provide: SocketIOConfig,
      useFactory: resolveSocketIOConfig,
      inject: [SOCKET_IO_MODULE_OPTIONS],
    },
    SocketContextStorage,
    {
      provide: SocketObservability,
      useFactory: (config: SocketIOConfig, storage: SocketContextStorage) =>
        SocketObservability.create(config.options, config.logger, storage),
      inject: [SocketIOConfig, SocketContextStorage],
    },
    {
      provide: MessageQueue,
      useFactory: (config: SocketIOConfig, observability: SocketObservability) =>
        createMessageQueue(config.options, config.logger, (...state) =>
          observability.queueState(...state),
        ),
      inject: [SocketIOConfig, SocketObservability],
    },
    {
      provide: GatewayRegistry,
      useFactory: createGatewayRegistry,
      inject: [DiscoveryService, SocketIOConfig],
    },
    SocketServers,
    SocketService,
    SocketContext,
    SocketErrors,
    ConnectionAdmission,
    NamespaceAdmissionLimit,
    RateLimit,
    DirectHandlers,
    EventDispatcher,
    SocketIOAdapter,
    SocketIOHealthIndicator,
    PresenceService,
  ],
  exports: [
    SocketService,
    SocketContext,
    PresenceService,
    SocketIOAdapter,
    SocketIOHealthIndicator,
    SOCKET_IO_MODULE_OPTIONS,
  ],
})
export class SocketIOModule
  extends ConfigurableSocketIOModule
  implements OnModuleInit, OnApplicationShutdown
{
  constructor(
    @Inject(SocketIOAdapter) private readonly adapter: SocketIOAdapter,
    @Inject(GatewayRegistry) private readonly gateways: GatewayRegistry,
    @Inject(SocketServers) private readonly servers: SocketServers,
    @Inject(MessageQueue) private readonly queue: MessageQueue,
    @Inject(SocketIOConfig) private readonly config: SocketIOConfig,
    @Inject(ApplicationConfig) private readonly appConfig: ApplicationConfig,
  ) {
    super();
    if (!config.options.emitterOnly) appConfig.setIoAdapter(adapter);
  }

  /** Configures the module; global unless `isGlobal: false`. */
  static override forRoot(options: typeof SOCKET_IO_OPTIONS_TYPE = {}): DynamicModule {
    return super.forRoot(options);
  }

  /** Configures the module from a factory, a class or an existing provider (e.g. `ConfigService`). */
  static override forRootAsync(options: typeof SOCKET_IO_ASYNC_OPTIONS_TYPE): DynamicModule {
    return super.forRootAsync(options);
  }

  /**
   * After Nest connected the gateways: their instances are the user's own again, a server
   * exists even without any gateway, and (on a queue that says when) the other processes know
   * this one before it serves.
   */
  async onModuleInit(): Promise<void> {
    this.gateways.release();
    if (warnIfAdapterReplaced(this.appConfig, this.adapter, this.config.logger)) return;
    this.adapter.ensureServer();
    await this.queue.joined?.();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.servers.dispose();
  }
}
