import type { CanActivate, Type } from '@nestjs/common';
import { ModuleRef, type DiscoveryService } from '@nestjs/core';
import type { Socket } from 'socket.io';
import { CONNECTION_GUARDS_METADATA } from '../guards/use-connection-guards.decorator.js';
import { ON_SOCKET_ERROR_METADATA } from '../errors/on-socket-error.decorator.js';
import { socketExceptionFilter } from '../errors/socket-exception.filter.js';
import type { SocketErrorHandler } from '../interfaces/socket-io-module-options.interface.js';

// @nestjs/websockets keeps these keys internal; they have not changed since Nest 5.
const GATEWAY_METADATA = 'websockets:is_gateway';
const GATEWAY_OPTIONS = 'websockets:gateway_options';
const PORT_METADATA = 'port';
const EXCEPTION_FILTERS_METADATA = '__exceptionFilters__';

/** A gateway namespace as `@WebSocketGateway()` accepts it. */
export type NamespaceKey = string | RegExp | ((...args: any[]) => unknown);

/** One gateway of the application, with what the adapter needs to serve it. */
export interface GatewayEntry {
  readonly name: string;
  readonly instance: Record<string, any>;
  readonly port: number;
  readonly path: string | undefined;
  readonly namespace: NamespaceKey;
  readonly guards: (CanActivate | Type<CanActivate>)[];
  readonly moduleRef: ModuleRef | undefined;
  /** The gateway's own `handleConnection`, run by the adapter before the client is accepted. */
  readonly handleConnection?: (socket: Socket) => unknown;
  readonly errorHandler?: SocketErrorHandler;
}

/** Normalises a namespace the way socket.io does (`''` and undefined are `/`). */
export function namespaceKey(ns: unknown): NamespaceKey {
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

/**
 * Finds the application's gateways. At construction (before Nest builds their handlers) it puts
 * the error filter on each gateway class; on first use it moves each `handleConnection` into the
 * adapter, which runs it before the client is accepted.
 */
export class GatewayRegistry {
  private entries?: GatewayEntry[];

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly log: (message: string, trace?: string) => void,
  ) {
    for (const wrapper of this.gatewayWrappers()) {
      const metatype = wrapper.metatype as object;
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
  }

  /** True when the application has at least one gateway. */
  get hasGateways(): boolean {
    return this.gatewayWrappers().length > 0;
  }

  /** True when no gateway is request-scoped (each has one instance, known up front). */
  get allStatic(): boolean {
    return this.gatewayWrappers().every((w) => w.isDependencyTreeStatic?.() !== false);
  }

  /** The gateways of a port, path and namespace. */
  find(port: number, path: string, defaultPath: string, namespace: unknown): GatewayEntry[] {
    const key = namespaceKey(namespace);
    return this.all().filter(
      (g) => g.port === port && (g.path ?? defaultPath) === path && sameNamespace(g.namespace, key),
    );
  }

  /** Every gateway, prepared once. */
  all(): GatewayEntry[] {
    return (this.entries ??= this.gatewayWrappers().flatMap((w) => this.prepare(w)));
  }

  private gatewayWrappers(): Wrapper[] {
    return (this.discovery.getProviders() as Wrapper[]).filter(
      (w) => typeof w.metatype === 'function' && Reflect.hasMetadata(GATEWAY_METADATA, w.metatype),
    );
  }

  private prepare(wrapper: Wrapper): GatewayEntry[] {
    const instance = wrapper.instance as Record<string, any> | undefined;
    const metatype = wrapper.metatype as Type;
    // Request-scoped gateways are built per connection by Nest, which calls their
    // handleConnection after acceptance; their connection guards still run before it.
    const scoped = wrapper.isDependencyTreeStatic?.() === false;
    if (!instance && !scoped) return [];
    const options = Reflect.getMetadata(GATEWAY_OPTIONS, metatype) ?? {};
    const moduleRef = wrapper.host?.providers?.get(ModuleRef)?.instance as ModuleRef | undefined;
    const common = {
      name: metatype.name,
      port: Reflect.getMetadata(PORT_METADATA, metatype) || 0,
      path: options.path,
      namespace: namespaceKey(options.namespace),
      guards: Reflect.getMetadata(CONNECTION_GUARDS_METADATA, metatype) ?? [],
      moduleRef,
    };
    if (scoped || !instance) {
      return [{ ...common, instance: Object.create(metatype.prototype) as Record<string, any> }];
    }
    this.guardHandleDisconnect(instance);
    return [
      {
        ...common,
        instance,
        handleConnection: this.takeHandleConnection(instance),
        errorHandler: this.findErrorHandler(instance),
      },
    ];
  }

  private takeHandleConnection(instance: Record<string, any>): GatewayEntry['handleConnection'] {
    const original = instance.handleConnection;
    if (typeof original !== 'function') return undefined;
    // Nest calls handleConnection after the client is accepted; the adapter has run it already.
    Object.defineProperty(instance, 'handleConnection', {
      value: () => undefined,
      configurable: true,
    });
    return (socket: Socket) => original.call(instance, socket);
  }

  private guardHandleDisconnect(instance: Record<string, any>): void {
    const original = instance.handleDisconnect;
    if (typeof original !== 'function') return;
    const log = this.log;
    Object.defineProperty(instance, 'handleDisconnect', {
      configurable: true,
      value(this: unknown, ...args: unknown[]) {
        try {
          const result = original.apply(instance, args);
          if (result && typeof (result as Promise<unknown>).catch === 'function') {
            (result as Promise<unknown>).catch((err) =>
              log(`handleDisconnect failed: ${err}`, err?.stack),
            );
          }
        } catch (err) {
          log(`handleDisconnect failed: ${err}`, (err as Error)?.stack);
        }
      },
    });
  }

  private findErrorHandler(instance: Record<string, any>): SocketErrorHandler | undefined {
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
