import type { ExecutionContext, Type } from '@nestjs/common';
import { ApplicationConfig, MetadataScanner, type ModuleRef } from '@nestjs/core';
import type { Socket } from 'socket.io';
import type { SocketCallFrame } from '../context/socket-context.storage.js';
import type { GatewayEntry } from './gateway-registry.js';
import { socketExceptionFilter } from '../errors/socket-exception.filter.js';
import { WsExecutionContext } from '../context/ws-execution-context.js';

// Metadata keys of @nestjs/common and @nestjs/websockets (internal there, stable since Nest 5).
const MESSAGE_MAPPING_METADATA = 'websockets:message_mapping';
const MESSAGE_METADATA = 'message';
const ROUTE_ARGS_METADATA = '__routeArguments__';
const CUSTOM_ROUTE_ARGS_METADATA = '__customRouteArgs__';
const ENHANCER_KEYS = ['__guards__', '__interceptors__', '__pipes__'];
const EXCEPTION_FILTERS_METADATA = '__exceptionFilters__';
// WsParamtype of @nestjs/websockets.
const SOCKET = 0;
const PAYLOAD = 3;
const ACK = 13;

/** A handler called directly: the socket, the event's data and ack, its name and call frame. */
export type FastHandler = (
  socket: Socket,
  data: unknown,
  ack: unknown,
  event: string,
  frame: SocketCallFrame,
) => unknown;

type ParamFactory = (args: unknown[]) => unknown;
interface RouteArg {
  index: number;
  data?: unknown;
  pipes?: unknown[];
  factory?: (data: unknown, ctx: ExecutionContext) => unknown;
}

/**
 * Nest wraps every gateway handler in guards, interceptors, pipes and filters, which costs six
 * promises and a dozen allocations per event even when there are none. For a handler that has
 * none of them (no global ones either, and only our own error filter), this builds a direct call
 * that passes the same arguments Nest would, so a synchronous handler answers synchronously.
 * Anything else keeps Nest's own chain.
 */
export class FastHandlers {
  private readonly byNamespace = new WeakMap<GatewayEntry[], Map<string, FastHandler | null>>();
  private globalsChecked?: boolean;

  constructor(
    private readonly moduleRef: ModuleRef,
    private readonly allStatic: () => boolean,
  ) {}

  /** The direct handler of `message` on a namespace's gateways, or undefined to keep Nest's. */
  get(gateways: GatewayEntry[], message: string): FastHandler | undefined {
    if (!gateways.length || !this.noGlobalEnhancers()) return undefined;
    let table = this.byNamespace.get(gateways);
    if (!table) this.byNamespace.set(gateways, (table = new Map()));
    let handler = table.get(message);
    if (handler === undefined) {
      handler = this.compile(gateways, message) ?? null;
      table.set(message, handler);
    }
    return handler ?? undefined;
  }

  /** Global guards, interceptors and pipes (`useGlobal*`, `APP_*`) run on gateways since Nest 12. */
  private noGlobalEnhancers(): boolean {
    if (this.globalsChecked !== undefined) return this.globalsChecked;
    let config: ApplicationConfig | undefined;
    try {
      config = this.moduleRef.get(ApplicationConfig, { strict: false });
    } catch {
      config = undefined;
    }
    // Decided on the first event, once the application has registered every global enhancer.
    this.globalsChecked =
      config !== undefined &&
      this.allStatic() &&
      config.getGlobalGuards().length === 0 &&
      config.getGlobalInterceptors().length === 0 &&
      config.getGlobalPipes().length === 0 &&
      config.getGlobalRequestGuards().length === 0 &&
      config.getGlobalRequestInterceptors().length === 0 &&
      config.getGlobalRequestPipes().length === 0;
    return this.globalsChecked;
  }

  private compile(gateways: GatewayEntry[], message: string): FastHandler | undefined {
    // Exactly one method of one gateway must claim the message: then the callback Nest hands
    // the adapter for it is that method's.
    const owners = gateways.flatMap((g) =>
      handlerNames(g.instance, message).map((name) => [g, name] as const),
    );
    if (owners.length !== 1) return undefined;
    const [gateway, methodName] = owners[0];
    const instance = gateway.instance;
    const method = instance[methodName] as (...args: unknown[]) => unknown;
    const metatype = instance.constructor as Type;
    for (const key of ENHANCER_KEYS) {
      if (hasAny(Reflect.getMetadata(key, metatype)) || hasAny(Reflect.getMetadata(key, method))) {
        return undefined;
      }
    }
    const filters: unknown[] = Reflect.getMetadata(EXCEPTION_FILTERS_METADATA, metatype) ?? [];
    if (filters.length !== 1 || filters[0] !== socketExceptionFilter) return undefined;
    if (hasAny(Reflect.getMetadata(EXCEPTION_FILTERS_METADATA, method))) return undefined;

    const routeArgs: Record<string, RouteArg> =
      Reflect.getMetadata(ROUTE_ARGS_METADATA, metatype, methodName) ?? DEFAULT_ARGS;
    const params: [number, ParamFactory][] = [];
    for (const [key, arg] of Object.entries(routeArgs)) {
      if (hasAny(arg.pipes)) return undefined;
      const factory = paramFactory(key, arg, metatype, method);
      if (!factory) return undefined;
      params.push([arg.index, factory]);
    }
    const pattern = Reflect.getMetadata(MESSAGE_METADATA, method) ?? 'unknown';
    // The arguments Nest's proxy would see: the client first, the pattern last.
    return (socket, data, ack, event, frame) => {
      const args = [socket, data, ack, event, frame, pattern];
      const values: unknown[] = [];
      for (let i = 0; i < params.length; i++) values[params[i][0]] = params[i][1](args);
      return method.apply(instance, values);
    };
  }
}

/** Nest's default parameters when a handler has no parameter decorators: client, data, ack. */
const DEFAULT_ARGS: Record<string, RouteArg> = {
  [`${SOCKET}:0`]: { index: 0 },
  [`${PAYLOAD}:1`]: { index: 1 },
  [`${ACK}:2`]: { index: 2 },
};

function paramFactory(
  key: string,
  arg: RouteArg,
  metatype: Type,
  method: (...args: unknown[]) => unknown,
): ParamFactory | undefined {
  if (key.includes(CUSTOM_ROUTE_ARGS_METADATA)) {
    const { factory, data } = arg;
    if (typeof factory !== 'function') return () => null;
    return (args) => factory(data, new WsExecutionContext(args, metatype, method));
  }
  const type = Number(key.split(':')[0]);
  const property = arg.data as string | undefined;
  switch (type) {
    case SOCKET:
      return (args) => args[0];
    case PAYLOAD:
      return property
        ? (args) => (args[1] as Record<string, unknown> | undefined)?.[property]
        : (args) => args[1];
    case ACK:
      return (args) => args.find((a) => typeof a === 'function');
    default:
      return undefined;
  }
}

function hasAny(list: unknown): boolean {
  return Array.isArray(list) && list.length > 0;
}

const scanner = new MetadataScanner();

function handlerNames(instance: object, message: string): string[] {
  const prototype = Object.getPrototypeOf(instance);
  return scanner.getAllMethodNames(prototype).filter((name) => {
    const method = prototype[name];
    return (
      typeof method === 'function' &&
      Reflect.getMetadata(MESSAGE_MAPPING_METADATA, method) !== undefined &&
      Reflect.getMetadata(MESSAGE_METADATA, method) === message
    );
  });
}
