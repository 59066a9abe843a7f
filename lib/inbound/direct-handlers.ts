import {
  Inject,
  Injectable,
  type ArgumentMetadata,
  type ExecutionContext,
  type Type,
} from '@nestjs/common';
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
  GUARDS_METADATA,
  INJECTION_METADATA_KEYS,
  INTERCEPTORS_METADATA,
  MESSAGE_MAPPING_METADATA,
  MESSAGE_METADATA,
  NEST_PIPE_METADATA_HAS_SCHEMA,
  nestHandlerArgs,
  PIPES_METADATA,
  pipeParamToken,
  PORT_METADATA,
  ROUTE_ARGS_METADATA,
  validationPipeLeavesAlone,
  WsParamtype,
} from '../internals/nest.internals.js';
import { compileChain, isThenable, type CompiledParam } from './compiled-chain.js';
import { EnhancerResolver } from './handler-enhancers.js';
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
  schema?: unknown;
  factory?: (data: unknown, ctx: ExecutionContext) => unknown;
}

/**
 * The metadata a directly called (or compiled) handler may carry, and nothing else: any other key
 * (a filter of the user's, or a key a future Nest adds) sends the handler through Nest's own
 * chain. Direct dispatch fails closed.
 */
const ENHANCER_KEYS = [GUARDS_METADATA, INTERCEPTORS_METADATA, PIPES_METADATA];
const KNOWN_CLASS_KEYS = new Set<unknown>([
  GATEWAY_METADATA,
  GATEWAY_OPTIONS,
  PORT_METADATA,
  EXCEPTION_FILTERS_METADATA,
  CONNECTION_GUARDS_METADATA,
  ...ENHANCER_KEYS,
  ...INJECTION_METADATA_KEYS,
]);
const KNOWN_METHOD_KEYS = new Set<unknown>([
  MESSAGE_MAPPING_METADATA,
  MESSAGE_METADATA,
  ...ENHANCER_KEYS,
  ...DESIGN_METADATA_KEYS,
]);
const KNOWN_PARAMETER_KEYS = new Set<unknown>([ROUTE_ARGS_METADATA, ...DESIGN_METADATA_KEYS]);

/**
 * Nest wraps every gateway handler in guards, interceptors, pipes and filters, which costs six
 * promises and a dozen allocations per event even when there are none. For a handler that has
 * none of them (and only our own error filter), this builds a direct call that passes the same
 * arguments Nest would, so a synchronous handler answers synchronously. A handler with guards,
 * interceptors or pipes Nest would run gets the same chain compiled once (`compileChain`).
 * Anything else (user filters, request-scoped pieces, unknown metadata), and everything with
 * `directDispatch: false`, keeps Nest's own chain.
 */
@Injectable()
export class DirectHandlers {
  private readonly byNamespace = new WeakMap<GatewayEntry[], Map<string, DirectHandler | null>>();
  private readonly enabled: boolean;
  private appConfig?: ApplicationConfig | null;

  constructor(
    @Inject(ModuleRef) private readonly moduleRef: ModuleRef,
    @Inject(GatewayRegistry) private readonly gateways: GatewayRegistry,
    @Inject(SocketIOConfig) config: SocketIOConfig,
  ) {
    this.enabled = config.options.directDispatch !== false;
  }

  /** The direct handler of `message` on a namespace's gateways, or undefined to keep Nest's. */
  get(gateways: GatewayEntry[], message: string): DirectHandler | undefined {
    if (!this.enabled || !gateways.length || !this.gateways.allStatic) return undefined;
    let table = this.byNamespace.get(gateways);
    if (!table) this.byNamespace.set(gateways, (table = new Map()));
    let handler = table.get(message);
    if (handler === undefined) {
      handler = this.compile(gateways, message) ?? null;
      table.set(message, handler);
    }
    return handler ?? undefined;
  }

  /** Read on the first event, once the application has registered every global enhancer. */
  private config(): ApplicationConfig | undefined {
    if (this.appConfig === undefined) {
      try {
        this.appConfig = this.moduleRef.get(ApplicationConfig, { strict: false });
      } catch {
        this.appConfig = null;
      }
    }
    return this.appConfig ?? undefined;
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

    const resolver = new EnhancerResolver(gateway.injectables, this.config());
    const enhancers = resolver.forHandler(metatype, method);
    if (!enhancers) return undefined;
    const routeArgs: Record<string, RouteArg> =
      Reflect.getMetadata(ROUTE_ARGS_METADATA, metatype, methodName) ?? DEFAULT_ARGS;
    // Nest reads the parameter types from the instance (its prototype chain).
    const paramtypes: unknown[] | undefined = Reflect.getMetadata(
      'design:paramtypes',
      instance,
      methodName,
    );
    const params: CompiledParam[] = [];
    const plain: [number, PlainParam][] = [];
    for (const [key, arg] of Object.entries(routeArgs)) {
      const extract = paramFactory(key, arg, metatype, method);
      const own = resolver.forParameter(arg.pipes);
      if (!extract || !own) return undefined;
      const custom = isCustom(key);
      const get = custom ? undefined : plainParam(paramType(key), arg.data as string);
      if (get) plain.push([arg.index, get]);
      const metadata = {
        metatype: paramtypes?.[arg.index],
        type: pipeParamToken(custom ? key.split(':')[0] : paramType(key)),
        data: arg.data,
        ...(NEST_PIPE_METADATA_HAS_SCHEMA && { schema: arg.schema }),
      } as ArgumentMetadata;
      // A ValidationPipe with nothing to validate (no DTO) returns the value: it is not run.
      const pipes = [...enhancers.pipes, ...own].filter(
        (pipe) => !validationPipeLeavesAlone(pipe, metadata),
      );
      params.push({ index: arg.index, extract, pipes, metadata });
    }
    const pattern = Reflect.getMetadata(MESSAGE_METADATA, method) ?? 'unknown';
    const { guards, interceptors } = enhancers;
    if (guards.length || interceptors.length || params.some((p) => p.pipes.length)) {
      return compileChain({ ...enhancers, instance, metatype, method, pattern, params });
    }
    if (plain.length === params.length) return plainCall(instance, method, plain);
    // The arguments Nest's proxy would see: the client first, the pattern last.
    return (socket, data, ack, event, frame) => {
      const args = nestHandlerArgs(socket, data, ack, event, frame, pattern);
      const values: unknown[] = [];
      let pending = false;
      for (let i = 0; i < params.length; i++) {
        const value = (values[params[i].index] = params[i].extract(args));
        if (!pending && isThenable(value)) pending = true;
      }
      // Nest awaits every parameter (an async custom decorator gives its value, not a promise).
      if (pending) return Promise.all(values).then((v) => method.apply(instance, v));
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
  // In Nest's order (its pipes run in this order too).
  [`${WsParamtype.ACK}:2`]: { index: 2 },
  [`${WsParamtype.PAYLOAD}:1`]: { index: 1 },
  [`${WsParamtype.SOCKET}:0`]: { index: 0 },
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
