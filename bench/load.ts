import { io, type Socket } from 'socket.io-client';
import { serveCommands, sharedNow, TICK, type LoadCommand } from './protocol.js';

/**
 * The load generator: a process of its own holding every client, driven by the harness over
 * IPC. It checks what it receives (ack payloads, tick counts) so a broken server cannot look fast.
 */
const clients: Socket[] = [];
const ticks: number[] = [];
let target: { perClient: number; clients: number } | undefined;
/** Clients of the target that still miss ticks; `onComplete` fires when it reaches 0. */
let remaining = 0;
let onComplete: (() => void) | undefined;
/** When the latest tick of the armed round arrived (`sharedNow()`). */
let lastAt = 0;

function connectOne(url: string, auth?: Record<string, unknown>, cookie?: string): Promise<void> {
  const index = clients.length;
  const socket = io(url, {
    transports: ['websocket'],
    forceNew: true,
    reconnection: false,
    auth,
    extraHeaders: cookie ? { cookie } : undefined,
  });
  clients.push(socket);
  ticks.push(0);
  socket.on(TICK, () => {
    const seen = ++ticks[index];
    if (target) lastAt = sharedNow();
    if (target && index < target.clients && seen === target.perClient && --remaining === 0) {
      onComplete?.();
    }
  });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', (err) => reject(new Error(`connect_error: ${err.message}`)));
  });
}

async function connectMany(command: Extract<LoadCommand, { cmd: 'connect' }>) {
  const start = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < command.count) {
      const i = next++;
      await connectOne(command.urls[i % command.urls.length], command.auth, command.cookie);
    }
  };
  await Promise.all(Array.from({ length: Math.min(command.concurrency, command.count) }, worker));
  return { connected: clients.length, ms: performance.now() - start };
}

async function echo(messages: number, inFlight: number) {
  const lanes = clients.length * inFlight;
  let sent = 0;
  let bad = 0;
  const start = performance.now();
  const lane = async (socket: Socket) => {
    while (sent < messages) {
      const n = sent++;
      const reply = (await socket.emitWithAck('echo', { n, text: 'hello' })) as { n?: number };
      if (reply?.n !== n) bad++;
    }
  };
  await Promise.all(Array.from({ length: lanes }, (_, i) => lane(clients[i % clients.length])));
  return { acks: sent, bad, ms: performance.now() - start };
}

const sum = (from: number, to: number) => ticks.slice(from, to).reduce((a, b) => a + b, 0);

function waitForTicks(timeoutMs: number) {
  const goal = target!;
  const start = performance.now();
  return new Promise<Record<string, unknown>>((resolve, reject) => {
    const finish = () => {
      clearTimeout(timer);
      onComplete = undefined;
      const received = sum(0, goal.clients);
      const stray = sum(goal.clients, ticks.length);
      resolve({ received, stray, ms: performance.now() - start, lastAt });
    };
    const timer = setTimeout(() => {
      onComplete = undefined;
      const expected = goal.perClient * goal.clients;
      reject(new Error(`only ${sum(0, goal.clients)} of ${expected} ticks arrived`));
    }, timeoutMs);
    if (remaining === 0) finish();
    else onComplete = finish;
  });
}

serveCommands<LoadCommand>(async (command) => {
  switch (command.cmd) {
    case 'connect':
      return connectMany(command);
    case 'join':
      await Promise.all(
        clients.slice(0, command.clients).map(async (socket) => {
          if ((await socket.emitWithAck('join', command.room)) !== true) throw new Error('join');
        }),
      );
      return;
    case 'echo':
      return echo(command.messages, command.inFlight);
    case 'arm':
      ticks.fill(0);
      lastAt = 0;
      target = { perClient: command.perClient, clients: command.clients ?? clients.length };
      remaining = command.perClient > 0 ? target.clients : 0;
      return;
    case 'wait':
      return waitForTicks(command.timeoutMs);
    case 'whoami':
      return (await clients[0].emitWithAck('whoami')) as Record<string, unknown>;
    case 'close':
      for (const socket of clients) socket.disconnect();
      setImmediate(() => process.exit(0));
      return;
  }
});
process.send!({ id: 0, ready: true });
