import type { LoggerService } from '@nestjs/common';
import type { ApplicationConfig } from '@nestjs/core';

/**
 * `app.useWebSocketAdapter()` after the module was imported replaces the adapter the module
 * installed, which silently turns the module off for every gateway (no options, guards, sessions
 * or error replies). Nest connects the gateways before `onModuleInit`, so the adapter they got is
 * known there.
 */
export function warnIfAdapterReplaced(
  appConfig: ApplicationConfig,
  installed: object,
  logger: LoggerService,
): boolean {
  const current = appConfig.getIoAdapter() as object | undefined;
  if (!current || current === installed) return false;
  logger.warn(
    `app.useWebSocketAdapter(${current.constructor?.name ?? 'adapter'}) replaced the adapter of SocketIOModule: gateways run without its options, connection guards, sessions and error replies. Remove the useWebSocketAdapter() call; the module configures Socket.IO (its messageQueue option replaces a Redis IoAdapter).`,
  );
  return true;
}
