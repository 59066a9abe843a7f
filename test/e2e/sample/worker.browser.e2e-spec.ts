import type { INestApplication, INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { randomUUID } from 'node:crypto';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createChatApp } from '../../../sample/01-chat/app.js';
import { createRedisSessionStore } from '../../../sample/02-worker/redis-session-store.js';
import { WorkerModule } from '../../../sample/02-worker/worker.module.js';
import { BrowserPool, screenshot, seeText } from '../../support/browser.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

// The 02-worker sample as `npm run sample:worker` runs it, in one test process: two chat
// instances and an emitter-only worker joined by the real Redis (a channel and a session prefix
// of their own, so parallel test files do not hear each other), and two browsers, one per instance.
describe('sample 02-worker in Chromium: two chat instances and a worker on Redis', () => {
  const channel = `sample-${randomUUID()}`;
  let sessions: Awaited<ReturnType<typeof createRedisSessionStore>>;
  let chatA: INestApplication;
  let chatB: INestApplication;
  let worker: INestApplicationContext;
  let urlA: string;
  let urlB: string;
  const browsers = new BrowserPool();

  async function newPage(): Promise<Page> {
    const context = await browsers.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    return page;
  }

  async function logIn(url: string, name: string): Promise<Page> {
    const page = await newPage();
    await page.goto(url);
    await page.fill('#login-name', name);
    await page.click('#login-button');
    await seeText(page, '#status', 'Connected');
    return page;
  }

  async function startChat(instanceName: string) {
    const app = await createChatApp({
      messageQueue: REDIS_URL,
      channel,
      sessionStore: sessions.store,
      instanceName,
      counterIntervalMs: 0,
      logger: false,
    });
    await app.listen(0, '127.0.0.1');
    return { app, url: (await app.getUrl()).replace('[::1]', '127.0.0.1') };
  }

  beforeAll(async () => {
    sessions = await createRedisSessionStore(REDIS_URL, `${channel}:sess:`);
    ({ app: chatA, url: urlA } = await startChat('chat-a'));
    ({ app: chatB, url: urlB } = await startChat('chat-b'));
    worker = await NestFactory.createApplicationContext(
      WorkerModule.forRoot({
        messageQueue: REDIS_URL,
        channel,
        intervalMs: 200,
        notifyEvery: 2,
        logger: false,
      }),
      { logger: false },
    );
  });

  afterEach(() => browsers.closeContexts());

  afterAll(async () => {
    await browsers.close();
    await worker?.close();
    await chatA?.close();
    await chatB?.close();
    await new Promise<void>((resolve) =>
      sessions ? sessions.store.clear(() => resolve()) : resolve(),
    );
    await sessions?.close();
  });

  it("users on different instances chat, and the worker's notifications reach both", async () => {
    const alice = await logIn(urlA, 'alice');
    const bob = await logIn(urlB, 'bob');
    await seeText(alice, '#instance', 'chat-a');
    await seeText(bob, '#instance', 'chat-b');

    // Who is online spans both instances.
    await seeText(alice, '#online li', 'bob');
    await seeText(bob, '#online li', 'alice');

    // A room whose members are on different instances.
    for (const page of [alice, bob]) {
      await page.fill('#chat-room', 'lobby');
      await page.click('#join-room-button');
      await seeText(page, '#my-rooms', '#lobby');
    }
    await alice.fill('#chat-text', 'hello from chat-a');
    await alice.click('#send-button');
    await seeText(bob, '#messages li', '[#lobby] alice: hello from chat-a');
    await bob.fill('#private-to', 'alice');
    await bob.fill('#private-text', 'psst from chat-b');
    await bob.click('#private-button');
    await seeText(alice, '#messages li.private', '[private] bob → alice: psst from chat-b');

    // An announcement posted to instance A reaches bob on instance B.
    const res = await fetch(`${urlA}/api/announce`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'posted to chat-a' }),
    });
    expect(res.status).toBe(200);
    await seeText(bob, '#announcements li', 'server: posted to chat-a');

    // The worker has no server, yet its counter and notifications reach both instances.
    await seeText(alice, '#notifications li', /^Worker: \d+ ticks so far$/);
    await seeText(bob, '#notifications li', /^Worker: \d+ ticks so far$/);
    for (const page of [alice, bob]) {
      const before = Number(await page.textContent('#counter'));
      await page.waitForFunction(
        `Number(document.getElementById('counter').textContent) > ${before}`,
      );
    }

    await screenshot(alice, 'sample-worker-alice-chat-a');
    await screenshot(bob, 'sample-worker-bob-chat-b');
  });

  it('a login on one instance is known to the other (sessions in Redis)', async () => {
    const page = await logIn(urlA, 'erin');
    await page.goto(urlB);
    await seeText(page, '#status', 'Connected');
    await seeText(page, '#me', 'erin');
    await seeText(page, '#instance', 'chat-b');
  });
});
