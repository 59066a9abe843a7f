import { Inject, Injectable, type ExecutionContext, type Type } from '@nestjs/common';
import { ApplicationConfig, ModuleRef } from '@nestjs/core';
import type { Socket } from 'socket.io';
import type { SocketCallFrame } from '../context/socket-context.storage.js';
import { WsExecutionContext } from '../context/ws-execution-context.js';
import { socketExceptionFilter } from '../errors/socket-exception.filter.js';
import { CONNECTION_GUARDS_METADATA } from '../guards/use-connection-guards.decorator.js';
import {
  CUSTOM_ROUTE_ARGS_METADATA,
  DESIGN_METADATA_KEYS,
  EXCEPTION_FILTERS_METADATA,
  GATEWAY_METADATA,
  GATEWAY_OPTIONS,
  INJECTION_METADATA_KEYS,
  MESSAGE_MAPPING_METADATA,
  MESSAGE_METADATA,
  PORT_METADATA,
  ROUTE_ARGS_METADATA,
  WsParamtype,
} from '../internals/nest.internals.js';
import { SocketIOConfig } from '../socket-io.config.js';
import { GatewayRegistry, type GatewayEntry } from './gateway-registry.js';
import { plainCall, plainParam, type PlainParam } from './direct-call.js';

/** A handler called directly: the socket, the event's data and ack, its name and call frame. */
export type DirectHandler = (
  socket: Socket,
  data: unknown,
  ack: unknown,
  event: string,
  frame: SocketCallFrame,
) => unknown;

type Method = (...args: unknown[]) => unknown;
type ParamFactory = (args: unknown[]) => unknown;
interface RouteArg {
  index: number;
  data?: unknown;
  pipes?: unknown[];
  factory?: (data: unknown, ctx: ExecutionContext) => unknown;
}

/**
 * The metadata a directly called handler may carry, and nothing else: any other key (a guard,
 * an interceptor, a pipe, a filter of the user's, or a key a future Nest adds) sends the handler
 * through Nest's own chain. Direct dispatch fails closed.
 */
const KNOWN_CLASS_KEYS = new Set<unknown>([
  GATEWAY_METADATA,
  GATEWAY_OPTIONS,
  PORT_METADATA,
  EXCEPTION_FILTERS_METADATA,
  CONNECTION_GUARDS_METADATA,
  ...INJECTION_METADATA_KEYS,
]);
const KNOWN_METHOD_KEYS = new Set<unknown>([
  MESSAGE_MAPPING_METADATA,
  MESSAGE_METADATA,
  ...DESIGN_METADATA_KEYS,
]);
const KNOWN_PARAMETER_KEYS = new Set<unknown>([ROUTE_ARGS_METADATA, ...DESIGN_METADATA_KEYS]);

/**
 * Nest wraps every gateway handler in guards, interceptors, pipes and filters, which costs six
 * promises and a dozen allocations per event even when there are none. For a handler that has
 * none of them (no global ones either, and only our own error filter), this builds a direct call
 * that passes the same arguments Nest would, so a synchronous handler answers synchronously.
 * Anything else, and everything with `directDispatch: false`, keeps Nest's own chain.
 */
@Injectable()
export class DirectHandlers {
  private readonly byNamespace = new WeakMap<GatewayEntry[], Map<string, DirectHandler | null>>();
  private readonly enabled: boolean;
  private globalsChecked?: boolean;

  constructor(
    @Inject(ModuleRef) private readonly moduleRef: ModuleRef,
    @Inject(GatewayRegistry) private readonly gateways: GatewayRegistry,
    @Inject(SocketIOConfig) config: SocketIOConfig,
  ) {
    this.enabled = config.options.directDispatch !== false;
  }

  /** The direct handler of `message` on a namespace's gateways, or undefined to keep Nest's. */
  get(gateways: GatewayEntry[], message: string): DirectHandler | undefined {
    if (!this.enabled || !gateways.length || !this.noGlobalEnhancers()) return undefined;
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
      this.gateways.allStatic &&
      config.getGlobalGuards().length === 0 &&
      config.getGlobalInterceptors().length === 0 &&
      config.getGlobalPipes().length === 0 &&
      config.getGlobalRequestGuards().length === 0 &&
      config.getGlobalRequestInterceptors().length === 0 &&
      config.getGlobalRequestPipes().length === 0;
    return this.globalsChecked;
  }

  private compile(gateways: GatewayEntry[], message: string): DirectHandler | undefined {
    // Exactly one method of one gateway must claim the message: then the callback Nest hands
    // the adapter for it is that method's.
    const owners = gateways.flatMap((g) =>
      this.gateways.handlerNames(g, message).map((name) => [g, name] as const),
    );
    if (owners.length !== 1) return undefined;
    const [gateway, methodName] = owners[0];
    const { instance, metatype } = gateway;
    const method = instance[methodName] as Method;
    if (!onlyKnownMetadata(metatype, method, methodName)) return undefined;
    const filters: unknown[] = Reflect.getMetadata(EXCEPTION_FILTERS_METADATA, metatype) ?? [];
    if (filters.length !== 1 || filters[0] !== socketExceptionFilter) return undefined;

    const routeArgs: Record<string, RouteArg> =
      Reflect.getMetadata(ROUTE_ARGS_METADATA, metatype, methodName) ?? DEFAULT_ARGS;
    const params: [number, ParamFactory][] = [];
    const plain: [number, PlainParam][] = [];
    for (const [key, arg] of Object.entries(routeArgs)) {
      if (Array.isArray(arg.pipes) && arg.pipes.length > 0) return undefined;
      const factory = paramFactory(key, arg, metatype, method);
      if (!factory) return undefined;
      params.push([arg.index, factory]);
      const get = isCustom(key) ? undefined : plainParam(paramType(key), arg.data as string);
      if (get) plain.push([arg.index, get]);
    }
    if (plain.length === params.length) return plainCall(instance, method, plain);
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

/** True when the class, the method and its parameters carry only metadata direct calls honour. */
function onlyKnownMetadata(metatype: Type, method: Method, methodName: string): boolean {
  return (
    known(Reflect.getMetadataKeys(metatype), KNOWN_CLASS_KEYS) &&
    known(Reflect.getMetadataKeys(method), KNOWN_METHOD_KEYS) &&
    known(Reflect.getMetadataKeys(metatype, methodName), KNOWN_PARAMETER_KEYS) &&
    known(Reflect.getMetadataKeys(metatype.prototype, methodName), KNOWN_PARAMETER_KEYS)
  );
}

function known(keys: unknown[], allowed: Set<unknown>): boolean {
  return keys.every((k) => allowed.has(k));
}

/** Nest's default parameters when a handler has no parameter decorators: client, data, ack. */
const DEFAULT_ARGS: Record<string, RouteArg> = {
  [`${WsParamtype.SOCKET}:0`]: { index: 0 },
  [`${WsParamtype.PAYLOAD}:1`]: { index: 1 },
  [`${WsParamtype.ACK}:2`]: { index: 2 },
};

function paramFactory(
  key: string,
  arg: RouteArg,
  metatype: Type,
  method: Method,
): ParamFactory | undefined {
  if (isCustom(key)) {
    const { factory, data } = arg;
    if (typeof factory !== 'function') return () => null;
    return (args) => factory(data, new WsExecutionContext(args, metatype, method));
  }
  const get = plainParam(paramType(key), arg.data as string | undefined);
  return get && ((args) => get(args[0] as Socket, args[1], args[2]));
}

const isCustom = (key: string) => key.includes(CUSTOM_ROUTE_ARGS_METADATA);
/** Nest's route-argument key is `type:index`. */
const paramType = (key: string) => Number(key.split(':')[0]);
