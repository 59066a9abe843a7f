import type { ServerOptions } from 'socket.io';
import { corsServerOptions } from '../guards/origin-check.js';
import type { SocketIOModuleOptions } from '../interfaces/socket-io-module-options.interface.js';

/**
 * The socket.io `ServerOptions` of one server: the module options, then `serverOptions`, then
 * the gateway's own `@WebSocketGateway()` options, which win for that gateway's server.
 */
export function buildServerOptions(
  o: SocketIOModuleOptions,
  parser: ServerOptions['parser'] | undefined,
  path: string,
  gatewayOptions: Record<string, any>,
  wsEngine?: unknown,
): Partial<ServerOptions> {
  const {
    cors: gatewayCors,
    path: _path,
    transports,
    allowRequest: gatewayAllowRequest,
    ...restOfGateway
  } = gatewayOptions;
  const options: Partial<ServerOptions> = { path };
  if (o.transports) options.transports = o.transports as ServerOptions['transports'];
  if (transports) options.transports = transports;
  if (o.pingInterval !== undefined) options.pingInterval = o.pingInterval;
  if (o.pingTimeout !== undefined) options.pingTimeout = o.pingTimeout;
  if (o.maxHttpBufferSize !== undefined) options.maxHttpBufferSize = o.maxHttpBufferSize;
  if (o.cookie) options.cookie = o.cookie === true ? true : (o.cookie as ServerOptions['cookie']);
  if (parser) options.parser = parser;
  if (wsEngine) options.wsEngine = wsEngine;
  if (o.connectionStateRecovery) {
    // Recovered clients go through the admission too (guards, session): never skipped.
    const recovery = o.connectionStateRecovery === true ? {} : o.connectionStateRecovery;
    options.connectionStateRecovery = { ...recovery, skipMiddlewares: false };
  }
  // The gateway's allowRequest, like the module's, runs after the origin check, never instead.
  const allowRequest = gatewayAllowRequest ?? o.serverOptions?.allowRequest;
  Object.assign(options, corsServerOptions(gatewayCors ?? o.cors, allowRequest));
  const { allowRequest: _ar, ...serverOptions } = o.serverOptions ?? {};
  return { ...options, ...serverOptions, ...restOfGateway };
}
