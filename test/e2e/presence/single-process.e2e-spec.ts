// PresenceService in one process (no message queue): state, diffs, disconnects, test client.
import { Controller, Get, Query, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { afterEach, describe, expect, it } from 'vitest';
import type { Socket as ClientSocket } from 'socket.io-client';
import {
  ConnectionRefusedError,
  PresenceService,
  SocketIOModule,
  UnknownClientError,
  type SocketIOModuleOptions,
} from 'nest-socketio';
import { createTestClient } from 'nest-socketio/testing';
import { WebSocketGateway, type OnGatewayConnection } from '@nestjs/websockets';
import type { Socket } from 'socket.io';
import { client, closeClients, connect, startApp } from '../../support/app.js';
import { PresenceGateway } from '../../support/presence-gateway.js';
import { PresenceView, summary } from '../../support/presence.js';

const apps: INestApplication[] = [];
afterEach(async () => {
  closeClients();
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

async function start(presence: SocketIOModuleOptions['presence'] = { heartbeatInterval: 200 }) {
  const { app, url } = await startApp({
    imports: [SocketIOModule.forRoot({ logger: false, presence })],
    providers: [PresenceGateway],
  });
  apps.push(app);
  return { app, url, presence: app.get(PresenceService) };
}

async function tracked(
  url: string,
  key: string,
  meta: Record<string, unknown> = {},
  topic = 'room:1',
) {
  const socket = await connect(url);
  const view = new PresenceView(socket);
  expect(await socket.emitWithAck('presence:track', { topic, key, meta })).toBe('tracked');
  await view.until('its own presence_state', () => view.states === 1);
  return { socket, view };
}

/** Tracks every client in handleConnection; refuses the ones that ask for it, afterwards. */
@WebSocketGateway({ namespace: '/lobby' })
class TrackOnConnect implements OnGatewayConnection {
  constructor(private readonly presence: PresenceService) {}
  async handleConnection(socket: Socket) {
    const name = String(socket.handshake.query.name);
    await this.presence.track('hall', name, { name });
    if (socket.handshake.query.refuse) throw new ConnectionRefusedError('not today');
  }
}

describe('PresenceService in one process', () => {
  it('sends the state to a tracked client and one diff per change to the others', async () => {
    const { url, presence } = await start();
    const alice = await tracked(url, 'alice', { name: 'Alice' });
    expect(alice.view.present).toEqual(['alice']);
    const [meta] = alice.view.keys.get('alice')!.values();
    expect(meta).toMatchObject({ name: 'Alice', sid: alice.socket.id });
    expect(Math.abs(meta.onlineAt - Date.now())).toBeLessThan(5000);

    const bob = await tracked(url, 'bob', { name: 'Bob' });
    expect(bob.view.present).toEqual(['alice', 'bob']);
    await alice.view.until('bob to join', () => alice.view.present.includes('bob'));
    expect(alice.view.diffs).toEqual([
      {
        joins: { bob: { metas: [expect.objectContaining({ sid: bob.socket.id, name: 'Bob' })] } },
        leaves: {},
      },
    ]);
    // Bob learnt of himself through the state only: no diff of his own join.
    expect(bob.view.diffs).toEqual([]);
    expect(summary(await presence.list('room:1'))).toEqual({
      alice: [alice.socket.id],
      bob: [bob.socket.id],
    });
    expect(await presence.list('another-topic')).toEqual({});
  });

  it('keeps a key while one of its metas remains, and ends presences on disconnect', async () => {
    const { url, presence } = await start();
    const watcher = await tracked(url, 'watcher');
    const tab1 = await tracked(url, 'carol', { tab: 1 });
    const tab2 = await tracked(url, 'carol', { tab: 2 });
    await watcher.view.until('two carol tabs', () => watcher.view.sids('carol').length === 2);

    const tab2Sid = tab2.socket.id;
    tab2.socket.disconnect();
    await watcher.view.until('one carol tab', () => watcher.view.sids('carol').length === 1);
    expect(watcher.view.sids('carol')).toEqual([tab1.socket.id]);
    expect(watcher.view.diffs.at(-1)).toEqual({
      joins: {},
      leaves: { carol: { metas: [expect.objectContaining({ sid: tab2Sid, tab: 2 })] } },
    });
    tab1.socket.disconnect();
    await watcher.view.until('carol to leave', () => !watcher.view.present.includes('carol'));
    expect(summary(await presence.list('room:1'))).toEqual({ watcher: [watcher.socket.id] });
    // Every join and leave reached the watcher once.
    expect([...watcher.view.leaves.values()]).toEqual([1, 1]);
    expect([...watcher.view.joins.values()].every((n) => n === 1)).toBe(true);
  });

  it('update sends a leave and a join of the key in one diff; untrack a leave', async () => {
    const { url, presence } = await start();
    const watcher = await tracked(url, 'watcher');
    const dave = await tracked(url, 'dave', { status: 'online' });
    await watcher.view.until('dave', () => watcher.view.present.includes('dave'));

    expect(
      await dave.socket.emitWithAck('presence:update', {
        topic: 'room:1',
        key: 'dave',
        meta: { status: 'away' },
      }),
    ).toBe('updated');
    await watcher.view.until(
      'dave away',
      () => watcher.view.keys.get('dave')?.get(dave.socket.id!)?.status === 'away',
    );
    const diff = watcher.view.diffs.at(-1)!;
    expect(diff.leaves.dave.metas).toEqual([expect.objectContaining({ status: 'online' })]);
    expect(diff.joins.dave.metas).toEqual([expect.objectContaining({ status: 'away' })]);
    expect(diff.joins.dave.metas[0].onlineAt).toBe(diff.leaves.dave.metas[0].onlineAt);

    expect(
      await dave.socket.emitWithAck('presence:untrack', { topic: 'room:1', key: 'dave' }),
    ).toBe('untracked');
    await watcher.view.until('dave to leave', () => !watcher.view.present.includes('dave'));
    expect(Object.keys(await presence.list('room:1'))).toEqual(['watcher']);
    // Untracked, dave is still in the room and still hears the changes.
    await tracked(url, 'erin');
    await dave.view.until('erin (dave still in the room)', () =>
      dave.view.present.includes('erin'),
    );
  });

  it('a client that comes back under its key within a heartbeat replaces its presence in one diff', async () => {
    const { url } = await start({ heartbeatInterval: 3000 });
    const watcher = await tracked(url, 'watcher');
    const first = await tracked(url, 'frank');
    await watcher.view.until('frank', () => watcher.view.present.includes('frank'));
    const before = watcher.view.diffs.length;
    const firstSid = first.socket.id;
    first.socket.disconnect();
    const again = await tracked(url, 'frank');
    await watcher.view.until(
      'frank again',
      () => watcher.view.sids('frank')[0] === again.socket.id,
    );
    // No diff in which frank was gone: the leave of the old meta came with the join of the new.
    expect(watcher.view.diffs.slice(before)).toEqual([
      {
        joins: { frank: { metas: [expect.objectContaining({ sid: again.socket.id })] } },
        leaves: { frank: { metas: [expect.objectContaining({ sid: firstSid })] } },
      },
    ]);
  });

  it('tracks in handleConnection; a client refused after that leaves again', async () => {
    const { app, url } = await startApp({
      imports: [SocketIOModule.forRoot({ logger: false, presence: { heartbeatInterval: 200 } })],
      providers: [TrackOnConnect],
    });
    apps.push(app);
    const presence = app.get(PresenceService);
    const first = client(`${url}/lobby`, { query: { name: 'ivy' } });
    const view = new PresenceView(first);
    await view.until('the state, once accepted', () => view.states === 1);
    expect(view.present).toEqual(['ivy']);
    const refused = connect(`${url}/lobby`, { query: { name: 'jack', refuse: '1' } });
    await expect(refused).rejects.toThrow('not today');
    await view.until('jack to come and go', () => view.leaves.size === 1);
    expect([...view.joins.keys()].some((k) => k.startsWith('jack/'))).toBe(true);
    expect(Object.keys(await presence.list('hall'))).toEqual(['ivy']);
  });

  it('tracks by sid outside a handler, and names an unknown sid', async () => {
    const { url, presence } = await start();
    const socket = await connect(url);
    const view = new PresenceView(socket);
    await presence.track('room:2', 'gina', { via: 'service' }, { sid: socket.id });
    await view.until('the state', () => view.states === 1);
    expect(view.present).toEqual(['gina']);
    await expect(presence.track('room:2', 'x', {}, { sid: 'nobody' })).rejects.toBeInstanceOf(
      UnknownClientError,
    );
    await expect(presence.track('room:2', 'x')).rejects.toThrow(
      /no sid given and no current client/,
    );
    await expect(presence.track('', 'x', {}, { sid: socket.id })).rejects.toThrow(
      /topic must be a non-empty string/,
    );
    await expect(presence.update('room:2', 'other', {}, { sid: socket.id })).rejects.toThrow(
      /is not tracked under "other"/,
    );
  });

  it('works with the test client: presence_state and presence_diff arrive in getReceived', async () => {
    @Controller()
    class OnlineController {
      constructor(private readonly presence: PresenceService) {}
      @Get('online')
      online(@Query('topic') topic: string) {
        return this.presence.list(topic);
      }
    }
    const moduleRef = await Test.createTestingModule({
      imports: [SocketIOModule.forRoot({ logger: false, presence: { heartbeatInterval: 200 } })],
      providers: [PresenceGateway],
      controllers: [OnlineController],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    apps.push(app);
    const a = await createTestClient(app);
    const b = await createTestClient(app);
    expect(await a.emit('presence:track', { topic: 'lobby', key: 'a' }, { ack: true })).toBe(
      'tracked',
    );
    expect(a.getReceived()).toEqual([
      {
        name: 'presence_state',
        args: [{ a: { metas: [expect.objectContaining({ sid: a.sid })] } }, 'lobby'],
        namespace: '/',
      },
    ]);
    await b.emit('presence:track', { topic: 'lobby', key: 'b' }, { ack: true });
    const [diff, topic] = await a.waitFor('presence_diff');
    expect(topic).toBe('lobby');
    expect(diff).toEqual({
      joins: { b: { metas: [expect.objectContaining({ sid: b.sid })] } },
      leaves: {},
    });
    expect(Object.keys(await app.get(PresenceService).list('lobby')).toSorted()).toEqual([
      'a',
      'b',
    ]);
    await a.disconnect();
    await b.disconnect();
  });

  it('refuses a wrong presence option at start-up, naming it', async () => {
    for (const [presence, message] of [
      [{ heartbeatInterval: -1 }, /"presence" heartbeatInterval must be a positive number/],
      [
        { heartbeatInterval: 5000, timeout: 6000 },
        /"presence" timeout \(6000 ms\) must be at least twice heartbeatInterval/,
      ],
      [{ interval: 5 }, /"presence" has an unknown field "interval"/],
    ] as const) {
      await expect(
        Test.createTestingModule({
          imports: [SocketIOModule.forRoot({ logger: false, presence: presence as never })],
        })
          .compile()
          .then((m) => m.createNestApplication({ logger: false }).init()),
      ).rejects.toThrow(message);
    }
  });
});

export type { ClientSocket };
