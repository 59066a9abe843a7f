/**
 * Four applications as a user starts them (the layouts `nest new` writes for Nest 11 and 12),
 * with the README's quick start as their module. Each is a map of file name to contents.
 */
export interface FreshApp {
  name: string;
  /** Which README install line this app uses. */
  nest: 11 | 12;
  files: Record<string, string>;
  /** Runs after the build, in the app's folder (the jest recipe), if set. */
  test?: string[];
}

const nestDeps = (major: 11 | 12, platform: 'express' | 'fastify') => ({
  '@nestjs/common': `^${major}.0.0`,
  '@nestjs/core': `^${major}.0.0`,
  [`@nestjs/platform-${platform}`]: `^${major}.0.0`,
  'reflect-metadata': '^0.2.2',
  rxjs: '^7.8.1',
});

const compilerOptions = {
  module: 'nodenext',
  moduleResolution: 'nodenext',
  resolvePackageJsonExports: true,
  esModuleInterop: true,
  isolatedModules: true,
  emitDecoratorMetadata: true,
  experimentalDecorators: true,
  allowSyntheticDefaultImports: true,
  target: 'ES2023',
  sourceMap: true,
  outDir: './dist',
  rootDir: '.',
  skipLibCheck: true,
  strict: true,
  strictPropertyInitialization: false,
  types: ['node'],
};

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** main.ts without top-level await (it must compile to CommonJS too); prints the port it got. */
function main(ext: string, platform: 'express' | 'fastify'): string {
  const fastify = platform === 'fastify';
  return `import { NestFactory } from '@nestjs/core';
${fastify ? "import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';\n" : ''}import { AppModule } from './app.module${ext}';

async function bootstrap() {
  const app = await NestFactory.create${fastify ? '<NestFastifyApplication>' : ''}(AppModule${fastify ? ', new FastifyAdapter()' : ''}, {
    logger: ['error', 'warn'],
  });
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address();
  console.log(\`LISTENING \${typeof address === 'object' && address ? address.port : address}\`);
}
void bootstrap();
`;
}

/** The jest spec of the CommonJS app: the README's test client against the quick start. */
const jestSpec = `import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { createTestClient } from 'nest-socketio/testing';
import { AppModule } from '../src/app.module';

describe('ChatGateway', () => {
  let app: INestApplication;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    app = moduleRef.createNestApplication();
    await app.init();
  });

  afterAll(() => app.close());

  it('acks a chat message and sends it to every client', async () => {
    const ann = await createTestClient(app);
    const bob = await createTestClient(app);
    expect(await ann.emit('chat', 'hello from jest', { ack: true })).toEqual({ ok: true });
    expect(await bob.waitFor('chat')).toEqual(['hello from jest']);
  });
});
`;

/** The four apps; `appModule` is the README's quick start, `jestRecipe` its jest-in-CommonJS entries. */
export function freshApps(appModule: string, jestRecipe: Record<string, unknown>): FreshApp[] {
  const esm: FreshApp = {
    name: 'nest12-esm',
    nest: 12,
    files: {
      'package.json': json({
        name: 'nest12-esm',
        private: true,
        type: 'module',
        // An app that had Nest's own gateway set-up: @nestjs/platform-socket.io pins its own
        // socket.io, which npm installs next to the app's newer one; only one is ever loaded.
        dependencies: { ...nestDeps(12, 'express'), '@nestjs/platform-socket.io': '^12.0.0' },
        devDependencies: { typescript: '^6.0.2', '@types/node': '^24.0.0' },
      }),
      'tsconfig.json': json({ compilerOptions, include: ['src'] }),
      'src/app.module.ts': appModule,
      'src/main.ts': main('.js', 'express'),
    },
  };
  const cjs: FreshApp = {
    name: 'nest12-cjs',
    nest: 12,
    files: {
      'package.json': json({
        name: 'nest12-cjs',
        private: true,
        ...jestRecipe,
        dependencies: nestDeps(12, 'express'),
        devDependencies: {
          '@nestjs/testing': '^12.0.0',
          '@types/jest': '^30.0.0',
          '@types/node': '^24.0.0',
          jest: '^30.0.0',
          'socket.io-client': '^4.8.0',
          'ts-jest': '^29.4.0',
          typescript: '^6.0.2',
        },
      }),
      'tsconfig.json': json({
        compilerOptions: { ...compilerOptions, types: ['node', 'jest'] },
        include: ['src', 'test'],
      }),
      'src/app.module.ts': appModule,
      'src/main.ts': main('', 'express'),
      'test/app.spec.ts': jestSpec,
    },
    test: ['npm', 'test'],
  };
  const nest11: FreshApp = {
    name: 'nest11-cjs',
    nest: 11,
    files: {
      'package.json': json({
        name: 'nest11-cjs',
        private: true,
        dependencies: nestDeps(11, 'express'),
        devDependencies: { typescript: '^5.7.3', '@types/node': '^22.10.7' },
      }),
      'tsconfig.json': json({ compilerOptions, include: ['src'] }),
      'src/app.module.ts': appModule,
      'src/main.ts': main('', 'express'),
    },
  };
  const fastify: FreshApp = {
    name: 'nest12-fastify',
    nest: 12,
    files: {
      'package.json': json({
        name: 'nest12-fastify',
        private: true,
        type: 'module',
        dependencies: nestDeps(12, 'fastify'),
        devDependencies: { typescript: '^6.0.2', '@types/node': '^24.0.0' },
      }),
      'tsconfig.json': json({ compilerOptions, include: ['src'] }),
      'src/app.module.ts': appModule,
      'src/main.ts': main('.js', 'fastify'),
    },
  };
  return [esm, cjs, nest11, fastify];
}
