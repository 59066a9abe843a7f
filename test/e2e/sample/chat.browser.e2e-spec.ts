import type { INestApplication } from '@nestjs/common';
import { existsSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createChatApp } from '../../../sample/01-chat/app.js';
import { BrowserPool, screenshot, seeText } from '../../support/browser.js';

let app: INestApplication;
let url: string;
const browsers = new BrowserPool();
const newContext = () => browsers.newContext();

/** A fresh browser context (its own cookies, so its own session) on the chat page, logged in. */
async function logIn(name: string): Promise<Page> {
  const page = await (await newContext()).newPage();
  page.setDefaultTimeout(15_000);
  await page.goto(url);
  await page.fill('#login-name', name);
  await page.click('#login-button');
  await seeText(page, '#status', 'Connected');
  await seeText(page, '#me', name);
  return page;
}

/** A form of the Flask-SocketIO example panel. */
const demo = (page: Page, event: string) => page.locator(`form[data-demo="${event}"]`);

const counterOf = async (page: Page) => Number(await page.textContent('#counter'));

describe('sample 01-chat in Chromium', () => {
  beforeAll(async () => {
    app = await createChatApp({ counterIntervalMs: 250, logger: false, instanceName: 'e2e' });
    await app.listen(0, '127.0.0.1');
    url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  });

  afterEach(() => browsers.closeContexts());

  afterAll(async () => {
    await browsers.close();
    await app?.close();
  });

  it('two users chat in a room, whisper, get an announcement and see the counter tick', async () => {
    const alice = await logIn('alice');
    // handleConnection greets the page and counts it online, the page asks for nothing.
    await seeText(alice, '#instance', 'e2e');
    await seeText(alice, '#online li', 'alice');
    await seeText(alice, '#log li', '#0: Connected');
    const bob = await logIn('bob');

    // Who is online, pushed to the page that was there first.
    await seeText(alice, '#online li', 'bob');
    await seeText(bob, '#online li', 'alice');

    // A room: both join, both see each other's messages.
    for (const page of [alice, bob]) {
      await page.fill('#chat-room', 'lobby');
      await page.click('#join-room-button');
      await seeText(page, '#my-rooms', '#lobby');
    }
    await seeText(alice, '#messages li', 'bob joined #lobby');
    await alice.fill('#chat-text', 'hello bob');
    await alice.click('#send-button');
    await seeText(bob, '#messages li', '[#lobby] alice: hello bob');
    await seeText(alice, '#messages li', '[#lobby] alice: hello bob');
    await bob.fill('#chat-text', 'hi alice');
    await bob.click('#send-button');
    await seeText(alice, '#messages li', '[#lobby] bob: hi alice');

    // The Prometheus endpoint counts what the pages just did: the messages, the connections.
    const scrape = await fetch(`${url}/metrics`);
    expect(scrape.headers.get('content-type')).toContain('text/plain');
    const exposition = await scrape.text();
    const sample = (metric: string, labels: string) => {
      const line = exposition
        .split('\n')
        .find((l) => l.startsWith(`${metric}{`) && labels.split(',').every((x) => l.includes(x)));
      return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
    };
    const sent = 'socketio_event="chat:message",socketio_namespace="/",socketio_outcome="ok"';
    expect(sample('socketio_events_total', sent)).toBeGreaterThanOrEqual(2);
    expect(sample('socketio_event_duration_count', sent)).toBeGreaterThanOrEqual(2);
    expect(sample('socketio_connections', 'socketio_namespace="/"')).toBeGreaterThanOrEqual(2);

    // A private message reaches the recipient (and the sender's own page), nobody else.
    await bob.fill('#private-to', 'alice');
    await bob.fill('#private-text', 'psst');
    await bob.click('#private-button');
    await seeText(alice, '#messages li.private', '[private] bob → alice: psst');
    await seeText(bob, '#messages li.private', '[private] bob → alice: psst');

    // Errors reach the page with their status: a private message to someone offline.
    await bob.fill('#private-to', 'carol');
    await bob.fill('#private-text', 'anyone?');
    await bob.click('#private-button');
    await seeText(bob, '#chat-error', 'chat:private: carol is not online (404)');

    // A payload the gateway's ValidationPipe rejects is answered with 400 and its messages.
    await bob.fill('#chat-room', 'no spaces!');
    await bob.click('#join-room-button');
    await seeText(bob, '#chat-error', /^chat:join: room may contain letters.* \(400\)$/);

    // POST /api/announce reaches every socket through SocketService.
    const res = await fetch(`${url}/api/announce`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'Maintenance at noon' }),
    });
    expect(res.status).toBe(200);
    await seeText(alice, '#announcements li', 'server: Maintenance at noon');
    await seeText(bob, '#announcements li', 'server: Maintenance at noon');

    // The background task's counter ticks on both pages; the ping shows a round-trip time.
    for (const page of [alice, bob]) {
      const before = await counterOf(page);
      await page.waitForFunction(
        `Number(document.getElementById('counter').textContent) > ${before}`,
      );
      await seeText(page, '#rtt', /^\d+\.\d$/);
    }
    expect(await counterOf(alice)).toBeGreaterThan(0);

    const shots = [
      await screenshot(alice, 'sample-chat-alice'),
      await screenshot(bob, 'sample-chat-bob'),
    ];
    for (const shot of shots) expect(existsSync(shot)).toBe(true);
  });

  it("runs Flask-SocketIO's example: echo, broadcast, rooms, close a room, disconnect", async () => {
    const carol = await logIn('carol');
    const dave = await logIn('dave');
    await demo(carol, 'echo').locator('input[name=data]').fill('echo me');
    await demo(carol, 'echo').locator('button').click();
    await seeText(carol, '#log li', /^#\d+: echo me$/);

    await demo(dave, 'broadcast').locator('input[name=data]').fill('to everyone');
    await demo(dave, 'broadcast').locator('button').click();
    await seeText(carol, '#log li', 'to everyone');
    await seeText(dave, '#log li', 'to everyone');

    await demo(carol, 'join').locator('input[name=room]').fill('r1');
    await demo(carol, 'join').locator('button').click();
    await seeText(carol, '#log li', 'In rooms: r1');

    // dave is not in r1 but may send to it; only the room's members get it.
    const roomEvent = demo(dave, 'room_event');
    await roomEvent.locator('input[name=room]').fill('r1');
    await roomEvent.locator('input[name=data]').fill('for r1 only');
    await roomEvent.locator('button').click();
    await seeText(carol, '#log li', 'for r1 only');

    await demo(dave, 'close_room').locator('input[name=room]').fill('r1');
    await demo(dave, 'close_room').locator('button').click();
    await seeText(carol, '#log li', 'Room r1 is closing.');
    await demo(carol, 'leave').locator('input[name=room]').fill('r1');
    await demo(carol, 'leave').locator('button').click();
    await seeText(carol, '#log li', /^#\d+: In rooms: $/);
    expect(await dave.locator('#log li', { hasText: 'for r1 only' }).count()).toBe(0);

    await demo(carol, 'disconnect_request').locator('button').click();
    await seeText(carol, '#log li', 'Disconnected!');
    await seeText(carol, '#status', 'Disconnected (io server disconnect)');
    // dave sees carol go offline.
    await dave.locator('#online li', { hasText: /^carol$/ }).waitFor({ state: 'detached' });
    await seeText(dave, '#online li', 'dave');
  });

  it('handleConnection greets a socket that sends nothing, lists it online and puts it in its user room', async () => {
    const erin = await logIn('erin');
    const frank = await logIn('frank');
    // A second socket in erin's browser (the session cookie goes along) that only listens.
    await erin.evaluate(() => {
      const heard: [string, unknown][] = [];
      const socket = (globalThis as any).io({ forceNew: true, reconnection: false });
      socket.onAny((event: string, data: unknown) => heard.push([event, data]));
      (globalThis as any).listener = heard;
    });
    const heard = () => erin.evaluate(() => (globalThis as any).listener as [string, any][]);
    await erin.waitForFunction(() =>
      (globalThis as any).listener.some(([e]: [string]) => e === 'presence_state'),
    );
    const greeting = await heard();
    // Two gateways greet it (DemoGateway's my_response, ChatGateway's welcome and, from
    // PresenceService, who is online: erin twice, her page and this socket; the pages of the
    // test before may still be there, for one heartbeat interval).
    const greetings = greeting.filter(([e]) => e !== 'counter' && e !== 'presence_diff');
    expect(greetings).toHaveLength(3);
    expect(greetings).toEqual(
      expect.arrayContaining([
        ['my_response', { data: 'Connected', count: 0 }],
        ['welcome', { user: 'erin', instance: 'e2e' }],
        [
          'presence_state',
          expect.objectContaining({
            erin: { metas: [expect.objectContaining({ instance: 'e2e' }), expect.anything()] },
            frank: { metas: [expect.objectContaining({ instance: 'e2e' })] },
          }),
        ],
      ]),
    );

    // It joined user:erin on connect, so frank's private message reaches it too.
    await frank.fill('#private-to', 'erin');
    await frank.fill('#private-text', 'to all your tabs');
    await frank.click('#private-button');
    await erin.waitForFunction(() =>
      (globalThis as any).listener.some(([e]: [string]) => e === 'chat:private'),
    );
    expect((await heard()).find(([e]) => e === 'chat:private')?.[1]).toMatchObject({
      from: 'frank',
      to: 'erin',
      text: 'to all your tabs',
    });
  });

  it('refuses a socket to a visitor who has not logged in, and rejects a bad login', async () => {
    const page = await (await newContext()).newPage();
    await page.goto(url);
    await seeText(page, '#login-panel h2', 'Log in');
    const refusal = await page.evaluate(
      () =>
        new Promise((resolve) => {
          const socket = (globalThis as any).io({ reconnection: false });
          socket.on('connect_error', (err: any) =>
            resolve({ message: err.message, data: err.data }),
          );
          socket.on('connect', () => resolve('connected'));
        }),
    );
    expect(refusal).toEqual({ message: 'Log in first', data: { status: 401 } });

    await page.fill('#login-name', 'no spaces allowed');
    await page.click('#login-button');
    await seeText(page, '#login-error', 'name may contain letters');
  });
});
