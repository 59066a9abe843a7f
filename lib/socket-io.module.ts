import {
  Logger,
  Module,
  type DynamicModule,
  type LoggerService,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import {
  ApplicationConfig,
  DiscoveryModule,
  DiscoveryService,
  HttpAdapterHost,
  ModuleRef,
} from '@nestjs/core';
import { LOGGER_CONTEXT, SOCKET_IO_MODULE_OPTIONS } from './socket-io.constants.js';
import {
  ConfigurableSocketIOModule,
  SOCKET_IO_ASYNC_OPTIONS_TYPE,
  SOCKET_IO_OPTIONS_TYPE,
} from './socket-io.module-definition.js';
import { validateSocketIOOptions } from './socket-io.options.js';
import { SocketIOAdapter } from './socket-io.adapter.js';
import { GatewayRegistry } from './socket-io.gateways.js';
import { SocketContext } from './socket-context.js';
import { SocketContextStorage } from './socket-context.storage.js';
import { SocketService } from './socket.service.js';
import { PresenceService } from './presence/presence.service.js';
import { loadParser } from './socket-io.parser.js';
import { createMessageQueue } from './queue/create-message-queue.js';
import type { SocketIOModuleOptions } from './interfaces/socket-io-module-options.interface.js';
import { checkSocketIOInstall } from './guards/install-check.js';
import { checkProductionSafety } from './guards/production-safety.check.js';
import { checkSessionOptions } from './session/session-options.js';
import { applySessionInterceptor } from './session/session.interceptor.js';

const silentLogger: LoggerService = { log() {}, error() {}, warn() {}, debug() {}, verbose() {} };

function loggerFrom(option: SocketIOModuleOptions['logger']): LoggerService {
  if (option === false) return silentLogger;
  if (option && option !== true) return option;
  return new Logger(LOGGER_CONTEXT);
}

async function createAdapter(
  rawOptions: unknown,
  appConfig: ApplicationConfig,
  httpAdapterHost: HttpAdapterHost,
  discovery: DiscoveryService,
  storage: SocketContextStorage,
  moduleRef: ModuleRef,
): Promise<SocketIOAdapter> {
  const options = validateSocketIOOptions(stripExtras(rawOptions));
  const logger = loggerFrom(options.logger);
  checkSocketIOInstall();
  checkSessionOptions(options);
  await checkProductionSafety(options, logger, discovery);
  if (options.manageSession === false) applySessionInterceptor(discovery);
  const gateways = new GatewayRegistry(discovery, (message, trace) => logger.error(message, trace));
  if (options.emitterOnly && gateways.hasGateways) {
    throw new Error(
      'SocketIOModule: emitterOnly: true runs no Socket.IO server, but the application has gateways',
    );
  }
  const adapter = new SocketIOAdapter({
    options,
    httpAdapterHost,
    moduleRef,
    storage,
    gateways,
    logger,
    parser: await loadParser(options.parser),
    queue: await createMessageQueue(options, logger),
    // SocketContext depends on SocketService, which depends on the adapter: resolve it late.
    socketContext: () => moduleRef.get(SocketContext) as SocketContext,
  });
  if (!options.emitterOnly) appConfig.setIoAdapter(adapter);
  return adapter;
}

/** `isGlobal` is the module's extra, not a Socket.IO option. */
function stripExtras(options: unknown): unknown {
  if (!options || typeof options !== 'object') return options;
  const { isGlobal: _isGlobal, ...rest } = options as Record<string, unknown>;
  return rest;
}

/**
 * Configures Socket.IO for every gateway of the application (Flask-SocketIO's `SocketIO(app)`):
 * importing it installs the gateway adapter and provides `SocketService` and `SocketContext`.
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    SocketContextStorage,
    {
      provide: SocketIOAdapter,
      useFactory: createAdapter,
      inject: [
        SOCKET_IO_MODULE_OPTIONS,
        ApplicationConfig,
        HttpAdapterHost,
        DiscoveryService,
        SocketContextStorage,
        ModuleRef,
      ],
    },
    SocketService,
    SocketContext,
    PresenceService,
  ],
  exports: [
    SocketService,
    SocketContext,
    PresenceService,
    SocketIOAdapter,
    SOCKET_IO_MODULE_OPTIONS,
  ],
})
export class SocketIOModule
  extends ConfigurableSocketIOModule
  implements OnModuleInit, OnApplicationShutdown
{
  constructor(private readonly adapter: SocketIOAdapter) {
    super();
  }

  /** Configures the module; global unless `isGlobal: false`. */
  static override forRoot(options: typeof SOCKET_IO_OPTIONS_TYPE = {}): DynamicModule {
    return super.forRoot(options);
  }

  /** Configures the module from a factory, a class or an existing provider (e.g. `ConfigService`). */
  static override forRootAsync(options: typeof SOCKET_IO_ASYNC_OPTIONS_TYPE): DynamicModule {
    return super.forRootAsync(options);
  }

  /** After Nest connected the gateways: make sure a server exists even without any gateway. */
  onModuleInit(): void {
    this.adapter.ensureServer();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.adapter.dispose();
  }
}
