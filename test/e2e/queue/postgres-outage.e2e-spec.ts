import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Socket as ClientSocket } from 'socket.io-client';
import { closeClients, connect, next } from '../../support/app.js';
import { removeBuilds } from '../../support/build-fixture.js';
import {
  deliveredEventually,
  startNode,
  stopNodes,
  waitForServers,
  type QueueNode,
} from '../../support/queue-cluster.js';
import { POSTGRES_URL, requireService } from '../../support/services.js';

// PostgreSQL drops every connection of two running processes (as a failover or a restart does):
// nothing crashes, local clients stay served, and delivery between the processes resumes.
describe('message queue: losing the PostgreSQL connections while running', () => {
  const tag = `nsio-outage-${randomUUID().slice(0, 8)}`;
  const messageQueue = {
    type: 'postgres' as const,
    url: `${POSTGRES_URL}?application_name=${tag}`,
    adapterOptions: { heartbeatInterval: 300 },
  };
  let a: QueueNode, b: QueueNode;
  let onA: ClientSocket, onB: ClientSocket;
  const admin = new pg.Client({ connectionString: POSTGRES_URL });

  beforeAll(async () => {
    await requireService('PostgreSQL', 5432);
    await admin.connect();
    [a, b] = await Promise.all(['A', 'B'].map((l) => startNode(l, { messageQueue, channel: tag })));
    await waitForServers([a, b], 2);
    [onA, onB] = await Promise.all([connect(a.url), connect(b.url)]);
  });
  afterAll(async () => {
    closeClients();
    await stopNodes();
    await admin.end();
    await removeBuilds();
  });

  it('keeps serving and resumes delivery after its connections are terminated', async () => {
    await deliveredEventually(a, onB);
    const { rows } = await admin.query(
      'SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity WHERE application_name = $1',
      [tag],
    );
    expect(rows.length).toBeGreaterThan(0);

    expect(await onA.timeout(5000).emitWithAck('echo', 'still here')).toEqual({
      from: 'A',
      data: 'still here',
    });
    const local = next(onB, 'local');
    await b.request('emit', 'local', 'mine', { to: onB.id });
    expect(await local).toBe('mine');

    await deliveredEventually(a, onB);
    await deliveredEventually(b, onA);
    await a.request('joinRoom', 'after', { sid: onB.id });
    const inRoom = next(onB, 'room');
    await a.request('emit', 'room', 'back', { to: 'after' });
    expect(await inRoom).toBe('back');
    for (const node of [a, b]) {
      expect(node.alive).toBe(true);
      expect(node.problems).toEqual([]);
    }
    // The loss was logged (the LISTEN connection at least), without the URL's credentials.
    const lost = [...a.logs, ...b.logs].filter((l) => l.level === 'error');
    expect(lost.length).toBeGreaterThan(0);
    expect(lost[0].message).toContain('PostgreSQL at 127.0.0.1:5432');
  });
});
