import 'reflect-metadata';
import {
  Controller,
  Get,
  Inject,
  Injectable,
  Module,
  Req,
  type CanActivate,
  type DynamicModule,
  type ExecutionContext,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  MessageBody,
  SubscribeMessage,
  WebSocketGateway,
  WebSocketServer,
} from '@nestjs/websockets';
import session from 'express-session';
import type { Server, Socket } from 'socket.io';
import * as thisLib from '../../lib/index.js';
import type { SocketContext, SocketIOModuleOptions } from '../../lib/index.js';
import { ALL_ROOM, type ServerConfig } from '../protocol.js';
import { redisAdapter, type BenchServer } from './bench-server.js';
import { enhanceApp, enhanceGateway, ENHANCER_PROVIDERS, type Enhancement } from './enhancers.js';

/** The token the load generator sends in `auth`; anything else is refused. */
export const BENCH_TOKEN = 'bench-token';

@Injectable()
class TokenGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    return context.switchToWs().getClient<Socket>().handshake.auth?.token === BENCH_TOKEN;
  }
}

/** The library under test: this commit's, or another build of it (`nest-socketio-base`). */
type Lib = typeof thisLib;

function gateway(guarded: boolean, lib: Lib, enhancement: Enhancement | undefined) {
  @WebSocketGateway()
  class BenchGateway {
    @WebSocketServer() server!: Server;

    constructor(@Inject(lib.SocketContext) private readonly ctx: SocketContext) {}

    @SubscribeMessage('echo')
    echo(@MessageBody() data: unknown) {
      return data;
    }

    @SubscribeMessage('join')
    async join(@MessageBody() room: string) {
      await this.ctx.joinRoom(room);
      return true;
    }

    /** What the session holds: proves sessions are live in the guarded variant. */
    @SubscribeMessage('whoami')
    whoami() {
      return { user: this.ctx.session.user ?? null };
    }
  }
  if (guarded) lib.UseConnectionGuards(TokenGuard)(BenchGateway);
  enhanceGateway(BenchGateway, enhancement);
  return BenchGateway;
}
type BenchGateway = InstanceType<ReturnType<typeof gateway>>;

@Controller()
class LoginController {
  @Get('login')
  login(@Req() req: { session: Record<string, unknown> }) {
    req.session.user = 'bench-user';
    return { ok: true };
  }
}

/** How a variant differs: its handler enhancers, and Nest's chain instead of compiled ones. */
export interface Variant {
  enhancement?: Enhancement;
  directDispatch?: boolean;
  /** Module options on top of the variant's (e.g. `broadcastSlicing: false`). */
  options?: SocketIOModuleOptions;
}

/** A nest-socketio gateway; `guarded` adds a connection guard and managed sessions. */
export async function startNestSocketIO(
  config: ServerConfig,
  guarded: boolean,
  lib: Lib = thisLib,
  { enhancement, directDispatch, options: extra }: Variant = {},
): Promise<BenchServer> {
  const redis = config.redis ? await redisAdapter(config.redis) : undefined;
  const sessionMiddleware = guarded
    ? session({ secret: 'bench', resave: false, saveUninitialized: false })
    : undefined;
  const options: SocketIOModuleOptions = { ...extra };
  if (config.engine === 'eiows') options.wsEngine = 'eiows';
  if (directDispatch !== undefined) options.directDispatch = directDispatch;
  if (redis) options.adapter = redis.adapter;
  if (sessionMiddleware) {
    options.session = sessionMiddleware;
    options.manageSession = true;
  }
  const Gateway = gateway(guarded, lib, enhancement);
  @Module({
    imports: [lib.SocketIOModule.forRoot(options) as DynamicModule],
    providers: [Gateway, TokenGuard, ...ENHANCER_PROVIDERS],
    controllers: guarded ? [LoginController] : [],
  })
  // oxlint-disable-next-line typescript/no-extraneous-class -- a Nest module is a decorated empty class
  class BenchModule {}
  const app = await NestFactory.create(BenchModule, { logger: false });
  enhanceApp(app, enhancement);
  if (sessionMiddleware) app.use(sessionMiddleware);
  await app.listen(0, '127.0.0.1');
  const sockets = app.get(lib.SocketService);
  return {
    port: app.getHttpServer().address().port,
    broadcast: (event, data, room) => {
      if (room) sockets.emit(event, data, { to: room });
      else sockets.emit(event, data);
    },
    emitVia: (via, event, data) => {
      if (via === 'server') app.get<BenchGateway>(Gateway).server.emit(event, data);
      else sockets.emit(event, data, via === 'room' ? { to: ALL_ROOM } : undefined);
    },
    close: async () => {
      await app.close();
      await redis?.close();
    },
  };
}
