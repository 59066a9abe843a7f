import {
  Body,
  Controller,
  Get,
  HttpCode,
  Post,
  Req,
  UnauthorizedException,
  ValidationPipe,
} from '@nestjs/common';
import type { Request } from 'express';
import { SocketService } from 'nest-socketio';
import { AnnounceDto, LoginDto } from './chat.dto.js';
import { ChatPresence } from './presence.service.js';

const validate = new ValidationPipe({ whitelist: true });

/** Log in and out over HTTP (the session carries the name into the socket), and announce. */
@Controller('api')
export class ApiController {
  constructor(
    private readonly sockets: SocketService,
    private readonly presence: ChatPresence,
  ) {}

  /** Sets the session's user name; the page connects its socket after this. */
  @Post('login')
  @HttpCode(200)
  login(@Req() req: Request, @Body(validate) { name }: LoginDto) {
    req.session.user = name;
    return { user: name };
  }

  @Post('logout')
  @HttpCode(200)
  async logout(@Req() req: Request) {
    await new Promise<void>((resolve, reject) =>
      req.session.destroy((err) => (err ? reject(err) : resolve())),
    );
    return { user: null };
  }

  @Get('me')
  me(@Req() req: Request) {
    if (!req.session.user) throw new UnauthorizedException('Not logged in');
    return { user: req.session.user };
  }

  @Get('online')
  online() {
    return this.presence.online();
  }

  /** Reaches every socket, from plain HTTP, through `SocketService`. */
  @Post('announce')
  @HttpCode(200)
  announce(@Req() req: Request, @Body(validate) { text }: AnnounceDto) {
    const announcement = { text, from: req.session.user ?? 'server', at: new Date().toISOString() };
    this.sockets.emit('announcement', announcement, { namespace: '/' });
    return { sent: announcement };
  }
}
