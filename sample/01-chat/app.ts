import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { fileURLToPath } from 'node:url';
import { AppModule } from './app.module.js';
import type { ChatOptions } from './chat.options.js';
import { createSessionMiddleware } from './session.js';
import { registerTelemetry } from './telemetry.js';

// Two levels below the repository root both as sources (sample/01-chat) and compiled
// (dist-sample/01-chat), so this finds the page either way.
const publicDir = fileURLToPath(new URL('../../sample/01-chat/public', import.meta.url));

/** Builds the chat app (not listening yet): HTTP session, static page, Socket.IO, /metrics. */
export async function createChatApp(options: ChatOptions = {}): Promise<NestExpressApplication> {
  registerTelemetry();
  const session = createSessionMiddleware({
    store: options.sessionStore,
    secret: options.sessionSecret,
  });
  const app = await NestFactory.create<NestExpressApplication>(
    AppModule.forRoot(options, session),
    { logger: options.logger === false ? false : undefined },
  );
  app.use(session);
  app.useStaticAssets(publicDir);
  return app;
}
