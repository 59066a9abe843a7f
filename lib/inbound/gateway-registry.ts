import { Inject, Injectable, type CanActivate, type Type } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, ModuleRef } from '@nestjs/core';
import type { Namespace, Socket } from 'socket.io';
import { SocketIOConfig } from '../socket-io.config.js';
import { CONNECTION_GUARDS_METADATA } from '../guards/use-connection-guards.decorator.js';
import { ON_SOCKET_ERROR_METADATA } from '../errors/on-socket-error.decorator.js';
import { socketExceptionFilter } from '../errors/socket-exception.filter.js';
import type { SocketErrorHandler } from '../interfaces/socket-io-module-options.interface.js';
import type { GatewayCors } from '../guards/production-safety.check.js';
import {
  EXCEPTION_FILTERS_METADATA,
  GATEWAY_METADATA,
  GATEWAY_OPTIONS,
  MESSAGE_MAPPING_METADATA,
  MESSAGE_METADATA,
  moduleInjectables,
  NEST_LOOKS_UP_HANDLE_CONNECTION_PER_CLIENT,
  PORT_METADATA,
} from '../internals/nest.internals.js';

/** A gateway namespace as `@WebSocketGateway()` accepts it. */
type NamespaceKey = string | RegExp | ((...args: never[]) => unknown);

/** A gateway instance, seen as a bag of methods. */
export type GatewayInstance = Record<string, unknown>;

/** One gateway of the application, with what the adapter needs to serve it. */
export interface GatewayEntry {
  readonly name: string;
  readonly instance: GatewayInstance;
  readonly metatype: Type;
  readonly port: number;
  readonly path: string | undefined;
  readonly namespace: NamespaceKey;
  readonly guards: (CanActivate | Type<CanActivate>)[];
  readonly moduleRef: ModuleRef | undefined;
  /** The enhancer instances of the gateway's module, where Nest finds `@UseGuards(X)`'s X. */
  readonly injectables: ReturnType<typeof moduleInjectables>;
  /** The gateway's own `handleConnection`, run by the admission before the client is accepted. */
  readonly handleConnection?: (socket: Socket) => unknown;
  readonly errorHandler?: SocketErrorHandler;
}

/** Normalises a namespace the way socket.io does (`''` and undefined are `/`). */
function namespaceKey(ns: unknown): NamespaceKey {
  if (ns === undefined || ns === null || ns === '') return '/';
  if (typeof ns === 'string') return ns.startsWith('/') ? ns : `/${ns}`;
  return ns as NamespaceKey;
}

function sameNamespace(a: NamespaceKey, b: NamespaceKey): boolean {
  if (a instanceof RegExp && b instanceof RegExp)
    return a.source === b.source && a.flags === b.flags;
  return a === b;
}

interface Wrapper {
  metatype?: unknown;
  instance?: unknown;
  host?: { providers?: Map<unknown, { instance?: unknown }> };
  isDependencyTreeStatic?: () => boolean;
}

const scanner = new MetadataScanner();

/**
 * The application's gateways: the one place that discovers them and reads their metadata. At
 * construction (before Nest builds their handlers) it puts the error filter on each gateway
 * class. It knows which gateways serve each namespace, their connection guards, error handlers
 * and handler methods.
 *
 * Nest calls a gateway's `handleConnection` after the client is accepted, and its
 * `handleDisconnect` without catching what it throws; the admission runs `handleConnection`
 * before acceptance instead. So while Nest connects the gateways (it reads both methods then),
 * they are shadowed on each instance: a `handleConnection` that skips Nest's own call for a
 * client the admission served (and runs the user's code for any other call, such as a test's),
 * and a `handleDisconnect` that logs its errors. `release()` removes the shadows once the
 * gateways are connected (on Nest 11, which looks `handleConnection` up at every connection,
 * that one stays), so the instance is the user's own again.
 */
@Injectable()
export class GatewayRegistry {
  private entries?: GatewayEntry[];
  private readonly byNamespace = new WeakMap<Namespace, GatewayEntry[]>();
  /** Own properties the shadows replaced (undefined: none), to put back on release. */
  private readonly shadowed: [GatewayInstance, string, PropertyDescriptor | undefined][] = [];

  constructor(
    @Inject(DiscoveryService) private readonly discovery: DiscoveryService,
    @Inject(SocketIOConfig) private readonly config: SocketIOConfig,
  ) {
    for (const metatype of this.gatewayClasses()) {
      const filters: unknown[] = Reflect.getMetadata(EXCEPTION_FILTERS_METADATA, metatype) ?? [];
      if (!filters.includes(socketExceptionFilter)) {
        // First in the list: Nest tries class filters last to first, so the user's own win.
        Reflect.defineMetadata(
          EXCEPTION_FILTERS_METADATA,
          [socketExceptionFilter, ...filters],
          metatype,
        );
      }
    }
    if (config.options.emitterOnly && this.hasGateways) {
      throw new Error(
        'SocketIOModule: emitterOnly: true runs no Socket.IO server, but the application has gateways',
      );
    }
  }

  /** True when the application has at least one gateway. */
  get hasGateways(): boolean {
    return this.gatewayWrappers().length > 0;
  }

  /** True when no gateway is request-scoped (each has one instance, known up front). */
  get allStatic(): boolean {
    return this.gatewayWrappers().every((w) => w.isDependencyTreeStatic?.() !== false);
  }

  /** Every gateway class. */
  gatewayClasses(): Type[] {
    return this.gatewayWrappers().map((w) => w.metatype as Type);
  }

  /** The `@WebSocketGateway()` options of a gateway class. */
  optionsOf(metatype: Type): Record<string, unknown> {
    return Reflect.getMetadata(GATEWAY_OPTIONS, metatype) ?? {};
  }

  /** The gateways that set a `cors` option of their own. */
  corsOptions(): GatewayCors[] {
    return this.gatewayClasses()
      .map((metatype) => ({
        name: metatype.name || 'gateway',
        cors: this.optionsOf(metatype).cors,
      }))
      .filter((gateway) => gateway.cors !== undefined);
  }

  /** The gateways of a port, path and namespace. */
  find(port: number, path: string, namespace: unknown): GatewayEntry[] {
    const key = namespaceKey(namespace);
    const defaultPath = this.config.path;
    return this.all().filter(
      (g) => g.port === port && (g.path ?? defaultPath) === path && sameNamespace(g.namespace, key),
    );
  }

  /** Records which gateways serve a namespace (a dynamic namespace's children share them). */
  serve(nsp: Namespace, gateways: GatewayEntry[]): void {
    if (!this.byNamespace.has(nsp)) this.byNamespace.set(nsp, gateways);
  }

  /** The gateways that serve a namespace. */
  of(nsp: Namespace): GatewayEntry[] {
    return this.byNamespace.get(nsp) ?? [];
  }

  /** The `@OnSocketError()` handler of a namespace's gateways, if one has one. */
  errorHandlerOf(nsp: Namespace): SocketErrorHandler | undefined {
    return this.of(nsp).find((g) => g.errorHandler)?.errorHandler;
  }

  /** The names of a gateway's methods that handle `message` (`@SubscribeMessage(message)`). */
  handlerNames(gateway: GatewayEntry, message: string): string[] {
    const prototype = Object.getPrototypeOf(gateway.instance) as GatewayInstance;
    return scanner.getAllMethodNames(prototype).filter((name) => {
      const method = prototype[name];
      return (
        typeof method === 'function' &&
        Reflect.getMetadata(MESSAGE_MAPPING_METADATA, method) !== undefined &&
        Reflect.getMetadata(MESSAGE_METADATA, method) === message
      );
    });
  }

  /** Every gateway, prepared once. */
  all(): GatewayEntry[] {
    return (this.entries ??= this.gatewayWrappers().flatMap((w) => this.prepare(w)));
  }

  /** Removes the shadows put on gateway instances while Nest connected them. */
  release(): void {
    for (const [instance, key, own] of this.shadowed.splice(0)) {
      if (own) Object.defineProperty(instance, key, own);
      else delete instance[key];
    }
  }

  private gatewayWrappers(): Wrapper[] {
    return (this.discovery.getProviders() as Wrapper[]).filter(
      (w) => typeof w.metatype === 'function' && Reflect.hasMetadata(GATEWAY_METADATA, w.metatype),
    );
  }

  private prepare(wrapper: Wrapper): GatewayEntry[] {
    const instance = wrapper.instance as GatewayInstance | undefined;
    const metatype = wrapper.metatype as Type;
    // Request-scoped gateways are built per connection by Nest, which calls their
    // handleConnection after acceptance; their connection guards still run before it.
    const scoped = wrapper.isDependencyTreeStatic?.() === false;
    if (!instance && !scoped) return [];
    const options = this.optionsOf(metatype);
    const moduleRef = wrapper.host?.providers?.get(ModuleRef)?.instance as ModuleRef | undefined;
    const common = {
      name: metatype.name,
      metatype,
      port: Reflect.getMetadata(PORT_METADATA, metatype) || 0,
      path: options.path as string | undefined,
      namespace: namespaceKey(options.namespace),
      guards: Reflect.getMetadata(CONNECTION_GUARDS_METADATA, metatype) ?? [],
      moduleRef,
      injectables: moduleInjectables(wrapper),
    };
    if (scoped || !instance) {
      return [{ ...common, instance: Object.create(metatype.prototype) as GatewayInstance }];
    }
    const handleConnection = this.shadow(instance);
    return [{ ...common, instance, handleConnection, errorHandler: this.errorHandler(instance) }];
  }

  /** Shadows the connection hooks while Nest connects the gateway; see the class comment. */
  private shadow(instance: GatewayInstance): GatewayEntry['handleConnection'] {
    const { handleConnection, handleDisconnect } = instance;
    if (typeof handleDisconnect === 'function') {
      const logger = this.config.logger;
      const log = (err: unknown) =>
        logger.error(`handleDisconnect failed: ${err}`, (err as Error | undefined)?.stack);
      this.define(instance, 'handleDisconnect', (...args: unknown[]) => {
        try {
          const result = handleDisconnect.apply(instance, args) as Promise<unknown> | undefined;
          if (typeof result?.catch === 'function') result.catch(log);
        } catch (err) {
          log(err);
        }
      });
    }
    if (typeof handleConnection !== 'function') return undefined;
    // Nest's own call for a client of a namespace this registry serves is skipped (the admission
    // already ran it); any other call, such as a unit test's, runs the user's code. Nest 12 reads
    // the method once, so release() removes this; Nest 11 looks it up per client, so it stays.
    const standIn = (socket: unknown, ...rest: unknown[]) =>
      this.byNamespace.has((socket as Partial<Socket> | undefined)?.nsp as Namespace)
        ? undefined
        : handleConnection.call(instance, socket, ...rest);
    if (NEST_LOOKS_UP_HANDLE_CONNECTION_PER_CLIENT) {
      Object.defineProperty(instance, 'handleConnection', {
        value: standIn,
        configurable: true,
        writable: true,
      });
    } else this.define(instance, 'handleConnection', standIn);
    return (socket) => handleConnection.call(instance, socket);
  }

  private define(instance: GatewayInstance, key: string, value: (...args: never[]) => unknown) {
    this.shadowed.push([instance, key, Object.getOwnPropertyDescriptor(instance, key)]);
    Object.defineProperty(instance, key, { value, configurable: true, writable: true });
  }

  private errorHandler(instance: GatewayInstance): SocketErrorHandler | undefined {
    let proto = Object.getPrototypeOf(instance);
    while (proto && proto !== Object.prototype) {
      for (const key of Object.getOwnPropertyNames(proto)) {
        const method = Object.getOwnPropertyDescriptor(proto, key)?.value;
        if (typeof method === 'function' && Reflect.getMetadata(ON_SOCKET_ERROR_METADATA, method)) {
          return (error, context) => method.call(instance, error, context);
        }
      }
      proto = Object.getPrototypeOf(proto);
    }
    return undefined;
  }
}
