import { Logger, type LoggerService } from '@nestjs/common';
import type { ServerOptions } from 'socket.io';
import { DEFAULT_PATH, LOGGER_CONTEXT } from './socket-io.constants.js';
import { validateSocketIOOptions } from './socket-io.options.js';
import { loadParser } from './outbound/parser.js';
import { loadWsEngine, type WsServerClass } from './outbound/ws-engine.js';
import { checkSocketIOInstall, processProbe } from './guards/install-check.js';
import { checkSessionOptions } from './session/session-options.js';
import type { SocketIOModuleOptions } from './interfaces/socket-io-module-options.interface.js';

/** The module's options once validated, with what they resolve to; one per application. */
export class SocketIOConfig {
  /** The Socket.IO path of the module's server. */
  readonly path: string;

  constructor(
    readonly options: SocketIOModuleOptions,
    readonly logger: LoggerService,
    /** The socket.io parser of the `parser` option (undefined: socket.io's default). */
    readonly parser?: ServerOptions['parser'],
    /** The WebSocket server class of the `wsEngine` option (undefined: Engine.IO's default). */
    readonly wsEngine?: WsServerClass,
  ) {
    this.path = options.path ?? DEFAULT_PATH;
  }
}

const silentLogger: LoggerService = { log() {}, error() {}, warn() {}, debug() {}, verbose() {} };

function loggerFrom(option: SocketIOModuleOptions['logger']): LoggerService {
  if (option === false) return silentLogger;
  if (option && option !== true) return option;
  return new Logger(LOGGER_CONTEXT);
}

/** `isGlobal` is the module's extra, not a Socket.IO option. */
function stripExtras(options: unknown): unknown {
  if (!options || typeof options !== 'object') return options;
  const { isGlobal: _isGlobal, ...rest } = options as Record<string, unknown>;
  return rest;
}

/** Validates the options the module was given (failing at start-up, naming the wrong one). */
export async function resolveSocketIOConfig(rawOptions: unknown): Promise<SocketIOConfig> {
  const options = validateSocketIOOptions(stripExtras(rawOptions));
  const logger = loggerFrom(options.logger);
  checkSocketIOInstall(processProbe((message) => logger.debug?.(message)));
  checkSessionOptions(options);
  const [parser, wsEngine] = await Promise.all([
    loadParser(options.parser),
    loadWsEngine(options.wsEngine),
  ]);
  return new SocketIOConfig(options, logger, parser, wsEngine);
}
