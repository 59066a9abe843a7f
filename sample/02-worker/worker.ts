import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { WorkerModule } from './worker.module.js';

// A Nest application context (no HTTP server) that emits to the chats through Redis.
const app = await NestFactory.createApplicationContext(
  WorkerModule.forRoot({ messageQueue: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' }),
);
app.enableShutdownHooks();
console.log('worker: notifying the chat instances through Redis');
