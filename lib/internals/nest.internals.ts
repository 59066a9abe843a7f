import { ValidationPipe, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * Every private detail of Nest this package relies on, in one place. Nest keeps these keys in
 * `@nestjs/*\/internal`, which is not public API and which the package does not import (its exports
 * map may close it); test/unit/internals/nest.internals.spec.ts compares each copy with the
 * installed Nest and fails when one no longer matches (test/unit/internals/nest-enhancer.internals.spec.ts
 * does so for what compiled chains copy from Nest's guards and pipes consumers and
 * `ValidationPipe`).
 *
 * Checked on @nestjs/common and @nestjs/core 12.5.1 and 11.2.10, @nestjs/websockets 12.1.1 and
 * 11.2.6 (the same keys in both majors; `Module.injectables`, `InstanceWrapper`, the guards,
 * interceptors and pipes consumers and `ValidationPipe.transform` read the same in both, except
 * the `schema` pipes get from 12 on, and global enhancers on gateways from 12 on).
 */
export const NEST_CHECKED_VERSIONS = {
  '@nestjs/common': ['11.2.10', '12.5.1'],
  '@nestjs/core': ['11.2.10', '12.5.1'],
  '@nestjs/websockets': ['11.2.6', '12.1.1'],
} as const;

// @nestjs/websockets/internal: what @WebSocketGateway() and @SubscribeMessage() write.
/** On a gateway class: it is a gateway. */
export const GATEWAY_METADATA = 'websockets:is_gateway';
/** On a gateway class: the options of `@WebSocketGateway(port?, options)`. */
export const GATEWAY_OPTIONS = 'websockets:gateway_options';
/** On a gateway class: its port (0: the application's HTTP server). */
export const PORT_METADATA = 'port';
/** On a handler method: it handles a message. */
export const MESSAGE_MAPPING_METADATA = 'websockets:message_mapping';
/** On a handler method: the message it handles. */
export const MESSAGE_METADATA = 'message';

// @nestjs/common/internal: enhancers and parameter decorators.
/** On a class (with the method's name as property key): the handler's parameter decorators. */
export const ROUTE_ARGS_METADATA = '__routeArguments__';
/** Part of a parameter key made by `createParamDecorator()`. */
export const CUSTOM_ROUTE_ARGS_METADATA = '__customRouteArgs__';
export const GUARDS_METADATA = '__guards__';
export const INTERCEPTORS_METADATA = '__interceptors__';
export const PIPES_METADATA = '__pipes__';
export const EXCEPTION_FILTERS_METADATA = '__exceptionFilters__';

/** Metadata dependency injection writes on a class; it does not change how a handler is called. */
export const INJECTION_METADATA_KEYS = [
  'design:paramtypes',
  'self:paramtypes',
  'optional:paramtypes',
  'self:properties_metadata',
  'optional:properties_metadata',
  'scope:options',
  '__injectable__',
] as const;

/** TypeScript's own metadata on a method (`emitDecoratorMetadata`). */
export const DESIGN_METADATA_KEYS = [
  'design:type',
  'design:paramtypes',
  'design:returntype',
] as const;

/** `WsParamtype` of @nestjs/websockets: the parameter decorators a gateway handler can use. */
export const WsParamtype = {
  /** `@ConnectedSocket()` */
  SOCKET: 0,
  /** `@MessageBody()` */
  PAYLOAD: 3,
  /** `@Ack()` */
  ACK: 13,
} as const;

/** The major version of the installed @nestjs/websockets. */
const WEBSOCKETS_MAJOR = (() => {
  const require = createRequire(import.meta.url);
  // @nestjs/websockets exports no ./package.json: read the one beside its entry.
  const file = join(dirname(require.resolve('@nestjs/websockets')), 'package.json');
  return Number(JSON.parse(readFileSync(file, 'utf8')).version.split('.')[0]);
})();

/**
 * Nest 11 looks a gateway's `handleConnection` up at every connection (`instance.handleConnection(...)`),
 * Nest 12 binds it once when it connects the gateway.
 */
export const NEST_LOOKS_UP_HANDLE_CONNECTION_PER_CLIENT = WEBSOCKETS_MAJOR < 12;

/**
 * Nest 12's `SocketModule` hands the application config to the guards, interceptors and pipes
 * context creators of gateways, so global enhancers (`useGlobal*`, `APP_*`) run on gateway
 * handlers; Nest 11's passes none, and they do not.
 */
export const NEST_RUNS_GLOBAL_ENHANCERS_ON_GATEWAYS = WEBSOCKETS_MAJOR >= 12;

/**
 * Nest 12's `PipesConsumer` hands pipes `{ metatype, type, data, schema }`, Nest 11's
 * `{ metatype, type, data }` (the @nestjs/* packages share their major).
 */
export const NEST_PIPE_METADATA_HAS_SCHEMA = WEBSOCKETS_MAJOR >= 12;

/** What Nest's `InstanceWrapper` (@nestjs/core's injector) tells of one enhancer instance. */
export interface NestInjectableWrapper {
  readonly instance: unknown;
  readonly isTransient: boolean;
  isDependencyTreeStatic(): boolean;
}

/**
 * The enhancers a module holds (`Module.injectables`, keyed by class): the instances Nest's
 * guards, interceptors and pipes context creators take for a class bound with `@UseGuards(X)`
 * and the like, looked up in the module that declares the gateway (`InstanceWrapper.host`).
 * Distinct from the module's providers: a guard also listed as a provider has a second instance.
 */
export function moduleInjectables(
  gatewayWrapper: unknown,
): ReadonlyMap<unknown, NestInjectableWrapper> | undefined {
  const host = (gatewayWrapper as { host?: { injectables?: unknown } } | undefined)?.host;
  return host?.injectables instanceof Map ? host.injectables : undefined;
}

/**
 * The arguments guards, interceptors and parameter decorators see for one event:
 * `[client, data, ack, event, frame, pattern]`. Nest 11's `WsContextCreator` appends the pattern
 * a second time after its `WsProxy` did (`args.push(targetPattern)`); Nest 12 appends it once.
 */
export function nestHandlerArgs(
  socket: unknown,
  data: unknown,
  ack: unknown,
  event: string,
  frame: unknown,
  pattern: unknown,
): unknown[] {
  return WEBSOCKETS_MAJOR >= 12
    ? [socket, data, ack, event, frame, pattern]
    : [socket, data, ack, event, frame, pattern, pattern];
}

/** The message Nest's `WsException` carries when a guard refuses (`FORBIDDEN_MESSAGE`). */
export const FORBIDDEN_MESSAGE = 'Forbidden resource';

/**
 * `ParamsTokenFactory` of @nestjs/core: the `type` a pipe's `ArgumentMetadata` carries for a
 * parameter type (`RouteParamtypes`; `@MessageBody()` shares BODY's number), `'custom'` otherwise.
 */
export function pipeParamToken(type: unknown): 'body' | 'query' | 'param' | 'custom' {
  return type === 3 ? 'body' : type === 4 ? 'query' : type === 5 ? 'param' : 'custom';
}

/** The members of `ValidationPipe` (all but `transform` protected) that decide it has no work. */
interface ValidationPipeInternals {
  expectedType?: unknown;
  isTransformEnabled: boolean;
  toValidate(metadata: ArgumentMetadata): boolean;
  transformPrimitive(value: unknown, metadata: ArgumentMetadata): unknown;
}

/**
 * True when Nest's own `ValidationPipe` would give a parameter back unchanged whatever its value:
 * its `transform` returns the value at once when `toValidate(metadata)` is false (no DTO: the
 * metatype is missing, a primitive or `Object`, or the parameter is a custom decorator's), and
 * `transformPrimitive` only converts `param` and `query` values, which gateways never have. The
 * check runs once per parameter at bind time; a subclass that overrides `transform` or
 * `transformPrimitive`, or an `expectedType`, always runs.
 */
export function validationPipeLeavesAlone(
  pipe: PipeTransform,
  metadata: ArgumentMetadata,
): boolean {
  if (!(pipe instanceof ValidationPipe)) return false;
  const proto = ValidationPipe.prototype as unknown as ValidationPipeInternals & PipeTransform;
  const internals = pipe as unknown as ValidationPipeInternals;
  if (pipe.transform !== proto.transform || internals.expectedType) return false;
  if (metadata.metatype && internals.toValidate(metadata)) return false;
  if (!internals.isTransformEnabled) return true;
  return (
    internals.transformPrimitive === proto.transformPrimitive &&
    metadata.type !== 'param' &&
    metadata.type !== 'query'
  );
}
