import diagnostics from 'node:diagnostics_channel';
import type { INestApplication } from '@nestjs/common';
import { metrics } from '@opentelemetry/api';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CONNECTION_CHANNEL,
  type SocketConnectionMessage,
  type SocketIOModuleOptions,
} from 'nest-socketio';
import { client, closeClients, connect } from '../../support/app.js';
import { connectError } from '../../support/client-events.js';
import { RecordingLogger, startObservedApp } from '../../support/observability-app.js';
import { PullReader } from '../../support/otel-reader.js';
import { rawWebSocket } from '../../support/raw-client.js';

// The module's own limits refuse clients before any guard runs: those refusals are reported
// (log, channel, metric) exactly as a guard's or handleConnection's are.

let app: INestApplication | undefined;
let reader: PullReader;
let refusals: SocketConnectionMessage[];
const onConnection = (m: unknown) => {
  if ((m as SocketConnectionMessage).type === 'refused')
    refusals.push(m as SocketConnectionMessage);
};

async function start(options: SocketIOModuleOptions) {
  const started = await startObservedApp(options);
  app = started.app;
  return started.url;
}

beforeEach(() => {
  reader = new PullReader();
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
  refusals = [];
  diagnostics.subscribe(CONNECTION_CHANNEL, onConnection);
});

afterEach(async () => {
  diagnostics.unsubscribe(CONNECTION_CHANNEL, onConnection);
  closeClients();
  await app?.close();
  app = undefined;
  metrics.disable();
});

describe('connection refusals of the module limits', () => {
  it('reports a connection attempt refused by the rate limit', async () => {
    const logger = new RecordingLogger();
    const url = await start({ logger, rateLimit: { points: 1, duration: 60_000 } });
    await connect(url);
    const err = await connectError(client(url));
    expect(err.message).toBe('Too Many Requests');

    expect(refusals).toEqual([
      expect.objectContaining({ type: 'refused', namespace: '/', reason: 'Too Many Requests' }),
    ]);
    expect(await reader.points('socketio.connection.refusals')).toEqual([
      expect.objectContaining({
        attributes: { 'socketio.namespace': '/', 'socketio.reason': 'Too Many Requests' },
        value: 1,
      }),
    ]);
    expect(
      logger.find('debug', 'Connection to namespace / refused: Too Many Requests'),
    ).toBeTruthy();
  });

  it('reports a second CONNECT for a namespace the connection is in', async () => {
    const logger = new RecordingLogger();
    const url = await start({ logger });
    const raw = await rawWebSocket(url);
    await raw.send('0');
    await raw.send('0');
    const packets = await raw.waitFor(2);
    // The second is refused at once, while the first is still being admitted.
    expect(packets.find((p) => p.startsWith('4'))).toContain('Already connected to this namespace');
    raw.close();

    expect(refusals).toEqual([
      expect.objectContaining({
        type: 'refused',
        namespace: '/',
        reason: 'Already connected to this namespace',
      }),
    ]);
    expect(await reader.points('socketio.connection.refusals')).toEqual([
      expect.objectContaining({
        attributes: {
          'socketio.namespace': '/',
          'socketio.reason': 'Already connected to this namespace',
        },
        value: 1,
      }),
    ]);
    expect(logger.find('debug', 'refused: Already connected to this namespace')).toBeTruthy();
  });
});
