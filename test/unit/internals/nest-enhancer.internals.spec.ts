import 'reflect-metadata';
import { ValidationPipe, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import { FORBIDDEN_MESSAGE } from '@nestjs/core/guards/constants.js';
import { ParamsTokenFactory } from '@nestjs/core/pipes/params-token-factory.js';
import { PipesConsumer } from '@nestjs/core/pipes/pipes-consumer.js';
import { IsString } from 'class-validator';
import { describe, expect, it } from 'vitest';
import * as ours from '../../../lib/internals/nest.internals.js';
import { NEST_MAJOR } from '../../support/nest-version.js';

// What the compiled chains copy from Nest's guards and pipes consumers, compared with the
// installed Nest (12 here, 11 in CI's second leg).

class NameDto {
  @IsString()
  name!: string;
}

describe("Nest's enhancer internals (lib/internals/nest.internals.ts)", () => {
  it("refuses with Nest's message", () => {
    expect(ours.FORBIDDEN_MESSAGE).toBe(FORBIDDEN_MESSAGE);
  });

  it.each([0, 1, 2, 3, 4, 5, 6, 13, 'name__customRouteArgs__'])(
    'gives pipes the type Nest gives them for parameter type %s',
    (type) => {
      expect(ours.pipeParamToken(type)).toBe(
        new ParamsTokenFactory().exchangeEnumForString(type as never),
      );
    },
  );

  it('hands pipes a schema exactly when Nest does', async () => {
    const seen: ArgumentMetadata[] = [];
    const pipe: PipeTransform = { transform: (v, m) => (seen.push(m), v) };
    await new PipesConsumer().apply(1, { type: 3 as never, metatype: Number, data: 'x' }, [pipe]);
    expect('schema' in seen[0]).toBe(ours.NEST_PIPE_METADATA_HAS_SCHEMA);
    expect(ours.NEST_PIPE_METADATA_HAS_SCHEMA).toBe(NEST_MAJOR >= 12);
  });

  it('runs global enhancers on gateways from Nest 12 on', () => {
    expect(ours.NEST_RUNS_GLOBAL_ENHANCERS_ON_GATEWAYS).toBe(NEST_MAJOR >= 12);
  });

  const cases: [string, ValidationPipe, Partial<ArgumentMetadata>, boolean][] = [
    ['no metatype', new ValidationPipe(), { type: 'body' }, true],
    ['Object', new ValidationPipe(), { type: 'body', metatype: Object }, true],
    ['String', new ValidationPipe(), { type: 'body', metatype: String, data: 'x' }, true],
    ['a socket (custom)', new ValidationPipe(), { type: 'custom', metatype: NameDto }, true],
    ['a DTO', new ValidationPipe(), { type: 'body', metatype: NameDto }, false],
    [
      'transform, Object',
      new ValidationPipe({ transform: true }),
      { type: 'body', metatype: Object },
      true,
    ],
    [
      'transform, a DTO',
      new ValidationPipe({ transform: true }),
      { type: 'body', metatype: NameDto },
      false,
    ],
    [
      'expectedType',
      new ValidationPipe({ expectedType: NameDto }),
      { type: 'body', metatype: Object },
      false,
    ],
    [
      'custom decorators validated',
      new ValidationPipe({ validateCustomDecorators: true }),
      { type: 'custom', metatype: NameDto },
      false,
    ],
  ];

  it.each(cases)(
    'knows when ValidationPipe leaves a value alone: %s',
    async (_, pipe, meta, alone) => {
      const metadata = meta as ArgumentMetadata;
      expect(ours.validationPipeLeavesAlone(pipe, metadata)).toBe(alone);
      const value = { name: 5 };
      if (alone) {
        // What Nest's own pipe does with any value: gives it back untouched.
        expect(await pipe.transform(value, metadata)).toBe(value);
      } else {
        await expect(Promise.resolve(pipe.transform(value, metadata))).rejects.toThrow();
      }
    },
  );

  it('always runs a subclass that overrides transform', () => {
    class Strict extends ValidationPipe {
      override async transform(value: unknown) {
        return value;
      }
    }
    expect(ours.validationPipeLeavesAlone(new Strict(), { type: 'body', metatype: Object })).toBe(
      false,
    );
  });
});
