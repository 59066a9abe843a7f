import type { CanActivate, NestInterceptor, PipeTransform, Type } from '@nestjs/common';
import type { ApplicationConfig } from '@nestjs/core';
import {
  GUARDS_METADATA,
  INTERCEPTORS_METADATA,
  NEST_RUNS_GLOBAL_ENHANCERS_ON_GATEWAYS,
  PIPES_METADATA,
  type NestInjectableWrapper,
} from '../internals/nest.internals.js';

/** The guards, interceptors and pipes Nest would run around one handler, in Nest's order. */
export interface HandlerEnhancers {
  readonly guards: CanActivate[];
  readonly interceptors: NestInterceptor[];
  /** Global, class and method pipes: every parameter runs them before its own. */
  readonly pipes: PipeTransform[];
}

/** Thrown inside resolution when an enhancer is not one the compiled chain can run as Nest would. */
const UNKNOWN = Symbol('unknown enhancer');

/**
 * Resolves enhancers the way Nest's context creators do: an instance is used as it is, a class is
 * the instance Nest made for it among the injectables of the gateway's module. Gives undefined
 * (keep Nest's chain) for anything whose instance is not one static object Nest would also pick:
 * request-scoped or transient enhancers, a class the module holds no instance of, an entry
 * without the enhancer's method, request-scoped global enhancers.
 */
export class EnhancerResolver {
  constructor(
    private readonly injectables: ReadonlyMap<unknown, NestInjectableWrapper> | undefined,
    private readonly config: ApplicationConfig | undefined,
  ) {}

  /** The enhancers of `method` on a gateway class, or undefined when they cannot be compiled. */
  forHandler(metatype: Type, method: object): HandlerEnhancers | undefined {
    try {
      return {
        guards: this.list(GUARDS_METADATA, metatype, method, 'canActivate'),
        interceptors: this.list(INTERCEPTORS_METADATA, metatype, method, 'intercept'),
        pipes: this.list(PIPES_METADATA, metatype, method, 'transform'),
      };
    } catch (err) {
      if (err === UNKNOWN) return undefined;
      throw err;
    }
  }

  /** The pipes of one parameter (`@MessageBody('x', SomePipe)`), or undefined. */
  forParameter(pipes: unknown[] | undefined): PipeTransform[] | undefined {
    try {
      return (pipes ?? []).map((p) => this.resolve<PipeTransform>(p, 'transform'));
    } catch (err) {
      if (err === UNKNOWN) return undefined;
      throw err;
    }
  }

  private list<T>(key: string, metatype: Type, method: object, methodKey: string): T[] {
    return [
      ...this.globals(key).map((e) => this.resolve<T>(e, methodKey)),
      ...((Reflect.getMetadata(key, metatype) ?? []) as unknown[]).map((e) =>
        this.resolve<T>(e, methodKey),
      ),
      ...((Reflect.getMetadata(key, method) ?? []) as unknown[]).map((e) =>
        this.resolve<T>(e, methodKey),
      ),
    ];
  }

  /** Nest 12 runs global enhancers on gateways, Nest 11 does not (its SocketModule omits them). */
  private globals(key: string): unknown[] {
    if (!NEST_RUNS_GLOBAL_ENHANCERS_ON_GATEWAYS) return [];
    const config = this.config;
    if (!config) throw UNKNOWN;
    switch (key) {
      case GUARDS_METADATA:
        if (config.getGlobalRequestGuards().length) throw UNKNOWN;
        return config.getGlobalGuards();
      case INTERCEPTORS_METADATA:
        if (config.getGlobalRequestInterceptors().length) throw UNKNOWN;
        return config.getGlobalInterceptors();
      default:
        if (config.getGlobalRequestPipes().length) throw UNKNOWN;
        return config.getGlobalPipes();
    }
  }

  private resolve<T>(entry: unknown, methodKey: string): T {
    let instance = entry as Record<string, unknown> | null | undefined;
    if (typeof entry === 'function') {
      const wrapper = this.injectables?.get(entry);
      if (!wrapper || wrapper.isTransient || !wrapper.isDependencyTreeStatic()) throw UNKNOWN;
      instance = wrapper.instance as Record<string, unknown> | null;
    }
    if (!instance || typeof instance[methodKey] !== 'function') throw UNKNOWN;
    return instance as T;
  }
}
