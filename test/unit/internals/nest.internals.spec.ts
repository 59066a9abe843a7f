import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { WsParamtype as NestWsParamtype } from '@nestjs/websockets/enums/ws-paramtype.enum.js';
import { UseGuards, type CanActivate } from '@nestjs/common';
import { MessageBody, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { describe, expect, it } from 'vitest';
import * as ours from '../../../lib/internals/nest.internals.js';
import { NEST_MAJOR } from '../../support/nest-version.js';

// Each key the package copies from Nest, compared with the installed Nest: a renamed key fails
// here instead of silently calling a guarded handler without its guard.

const require = createRequire(import.meta.url);
// Nest 12 exposes its private constants as `*/internal`; Nest 11 (CommonJS, no exports map) as
// `*/constants.js`. The copies must match whichever Nest is installed.
const internal = (pkg: string) =>
  import(NEST_MAJOR >= 12 ? `${pkg}/internal` : `${pkg}/constants.js`) as Promise<
    Record<string, unknown>
  >;
const common = await internal('@nestjs/common');
const websockets = await internal('@nestjs/websockets');
// @nestjs/websockets exports no ./package.json: read the one beside its entry.
const installed = (name: string): string =>
  JSON.parse(readFileSync(join(dirname(require.resolve(name)), 'package.json'), 'utf8')).version;

const major = (version: string) => version.split('.')[0];

describe('Nest internals (lib/internals/nest.internals.ts)', () => {
  it.each([
    ['GATEWAY_METADATA', websockets.GATEWAY_METADATA],
    ['GATEWAY_OPTIONS', websockets.GATEWAY_OPTIONS],
    ['PORT_METADATA', websockets.PORT_METADATA],
    ['MESSAGE_MAPPING_METADATA', websockets.MESSAGE_MAPPING_METADATA],
    ['MESSAGE_METADATA', websockets.MESSAGE_METADATA],
    ['ROUTE_ARGS_METADATA', common.ROUTE_ARGS_METADATA],
    ['ROUTE_ARGS_METADATA', websockets.PARAM_ARGS_METADATA],
    ['CUSTOM_ROUTE_ARGS_METADATA', common.CUSTOM_ROUTE_ARGS_METADATA],
    ['GUARDS_METADATA', common.GUARDS_METADATA],
    ['INTERCEPTORS_METADATA', common.INTERCEPTORS_METADATA],
    ['PIPES_METADATA', common.PIPES_METADATA],
    ['EXCEPTION_FILTERS_METADATA', common.EXCEPTION_FILTERS_METADATA],
  ] as const)('%s matches the installed Nest (%s)', (name, nest) => {
    expect(ours[name]).toBe(nest);
  });

  it('knows the metadata dependency injection writes, and only that', () => {
    expect([...ours.INJECTION_METADATA_KEYS].toSorted()).toEqual(
      [
        common.PARAMTYPES_METADATA,
        common.SELF_DECLARED_DEPS_METADATA,
        common.OPTIONAL_DEPS_METADATA,
        common.PROPERTY_DEPS_METADATA,
        common.OPTIONAL_PROPERTY_DEPS_METADATA,
        common.SCOPE_OPTIONS_METADATA,
        common.INJECTABLE_WATERMARK,
      ].toSorted(),
    );
  });

  it('copies the WsParamtype numbers of the parameter decorators it resolves', () => {
    expect(ours.WsParamtype).toEqual({
      SOCKET: NestWsParamtype.SOCKET,
      PAYLOAD: NestWsParamtype.PAYLOAD,
      ACK: NestWsParamtype.ACK,
    });
  });

  it('finds what the decorators write under the keys it reads', () => {
    class Guard implements CanActivate {
      canActivate() {
        return true;
      }
    }
    @WebSocketGateway(0, { namespace: '/pinned' })
    class Gateway {
      @SubscribeMessage('event')
      @UseGuards(Guard)
      handle(@MessageBody('field') _field: string) {}
    }
    const method = Gateway.prototype.handle;
    expect(Reflect.getMetadata(ours.GATEWAY_METADATA, Gateway)).toBe(true);
    expect(Reflect.getMetadata(ours.GATEWAY_OPTIONS, Gateway)).toEqual({ namespace: '/pinned' });
    expect(Reflect.getMetadata(ours.PORT_METADATA, Gateway)).toBe(0);
    expect(Reflect.getMetadata(ours.MESSAGE_MAPPING_METADATA, method)).toBe(true);
    expect(Reflect.getMetadata(ours.MESSAGE_METADATA, method)).toBe('event');
    expect(Reflect.getMetadata(ours.GUARDS_METADATA, method)).toEqual([Guard]);
    const args = Reflect.getMetadata(ours.ROUTE_ARGS_METADATA, Gateway, 'handle');
    expect(args).toEqual({
      [`${ours.WsParamtype.PAYLOAD}:0`]: { index: 0, data: 'field', pipes: [] },
    });
  });

  it.each(Object.entries(ours.NEST_CHECKED_VERSIONS))(
    'was checked on the major version of %s that is installed',
    (name, checked) => {
      // A new major may move any of the keys above: check them again and update the versions.
      expect(checked.map(major)).toContain(major(installed(name)));
    },
  );
});
