import { once } from 'node:events';
import WebSocket from 'ws';

/** A small seeded PRNG (mulberry32): the same seed gives the same packets. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rand = () => number;
const int = (r: Rand, n: number) => Math.floor(r() * n);
const pick = <T>(r: Rand, list: readonly T[]): T => list[int(r, list.length)]!;

function randomText(r: Rand, max: number): string {
  const n = int(r, max);
  let s = '';
  for (let i = 0; i < n; i++) {
    const kind = r();
    if (kind < 0.7) s += String.fromCharCode(32 + int(r, 95));
    else if (kind < 0.85) s += String.fromCharCode(int(r, 32));
    else s += String.fromCodePoint(int(r, 0x10ffff + 1) & 0xd7ff);
  }
  return s;
}

export function randomBytes(r: Rand, max: number): Uint8Array {
  const out = new Uint8Array(1 + int(r, max));
  for (let i = 0; i < out.length; i++) out[i] = int(r, 256);
  return out;
}

const events = ['echo', 'boom', 'boom-async', 'unknown', '', 'constructor', '__proto__', 'slow'];
const namespaces = ['', '/', '/nope', '/admin', '//', '/a,b', '/' + 'n'.repeat(300)];
const values = [
  '1',
  '"str"',
  'null',
  'true',
  '{}',
  '[]',
  '{"__proto__":{"polluted":1}}',
  '{"constructor":{"prototype":{"x":1}}}',
  '1e999',
  '-0',
  '"\\ud800"',
  '{"_placeholder":true,"num":0}',
  '{"_placeholder":true,"num":-1}',
  '{"_placeholder":true,"num":99999}',
  '{"_placeholder":true,"num":"0"}',
];

const nested = (depth: number, open: string, close: string) =>
  open.repeat(depth) + close.repeat(depth);

/**
 * One malformed or mutated packet, as the text of an Engine.IO message. `harsh` packets break
 * the protocol (the server must drop the connection, and only it); the others are well framed
 * but carry bad content, which the server must take in its stride on the same connection.
 */
export function fuzzPacket(r: Rand, harsh: boolean): string {
  return harsh ? harshPacket(r) : oddPacket(r);
}

function oddPacket(r: Rand): string {
  const event = JSON.stringify(pick(r, events));
  const value = pick(r, values);
  switch (int(r, 11)) {
    case 0: // events, known or not, with and without an ack id
      return `42${r() < 0.5 ? int(r, 1e6) : ''}[${event},${value}]`;
    case 1: // binary placeholders out of range, in a packet that declares no attachment
      return `42[${event},{"_placeholder":true,"num":${pick(r, ['0', '7', '-1', '1e9', '"a"', 'null', '{}'])}}]`;
    case 2: // acks for ids that were never sent
      return `43${int(r, 1e9)}[${value}]`;
    case 3: // deeply nested JSON
      return `42[${event},${nested(r() < 0.05 ? 20_000 : 100 + int(r, 2000), '[', ']')}]`;
    case 4: {
      const depth = r() < 0.05 ? 5000 : 100 + int(r, 1000);
      return `42[${event},${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}]`;
    }
    case 5: // huge ack ids and numbers
      return `42${'9'.repeat(1 + int(r, 40))}[${event},${'9'.repeat(int(r, 400) + 1)}]`;
    case 6: // many arguments
      return `42[${event}${`,${value}`.repeat(1 + int(r, 100))}]`;
    case 7: // long event names, numeric event names
      return r() < 0.5 ? `42["${'e'.repeat(1 + int(r, 2000))}",1]` : `42[${int(r, 1e9)},1]`;
    case 8: // namespaces that have no gateway
      return `40${pick(r, ['/nope', '/admin', '/' + 'n'.repeat(300)])},${pick(r, ['', '{"token":1}'])}`;
    case 9: // random strings as data
      return `42[${event},${JSON.stringify(randomText(r, 200))}]`;
    default: // Engine.IO packets a client may send but should not: pongs out of turn, noops
      return pick(r, ['3', '6', '3probe']);
  }
}

function harshPacket(r: Rand): string {
  const event = JSON.stringify(pick(r, events));
  const value = pick(r, values);
  switch (int(r, 10)) {
    case 0: // truncated
      return `42[${event},${value}]`.slice(0, 1 + int(r, 12));
    case 1: // wrong types where the event name goes, reserved event names
      return `42${pick(r, ['{}', '"x"', '1', 'null', '[null]', '[{}]', '[[]]', '[]', '["disconnect"]', '["connect"]'])}`;
    case 2: // unknown or out-of-place packet types
      return `4${pick(r, ['7', '8', '9', 'a', '-', ' ', '0', '1', '4{"message":"x"}', '5', '6'])}`;
    case 3: // events for a namespace the client never joined, broken namespace connects
      return r() < 0.5
        ? `42${pick(r, namespaces)},[${event}]`
        : `40/a,b,${pick(r, ['', '[]', '1'])}`;
    case 4: // binary placeholders out of range, absurd attachment counts
      return `45${pick(r, ['0', '1', '11', '99999999999', '-1', 'x', '1e3', ''])}-[${event},{"_placeholder":true,"num":${pick(r, ['0', '5', '-1', '1e9'])}}]`;
    case 5: // garbage after a valid packet
      return `42[${event},${value}]${randomText(r, 5) || 'x'}`;
    case 6: // pure random text
      return `4${randomText(r, 80)}`;
    case 7: {
      // a valid packet with bytes flipped, deleted or inserted
      const chars = [...`42${int(r, 100)}[${event},{"a":[1,"b",{"c":null}]}]`];
      for (let i = int(r, 4); i >= 0; i--) {
        const at = int(r, chars.length);
        const op = int(r, 3);
        if (op === 0) chars[at] = String.fromCharCode(int(r, 128));
        else if (op === 1) chars.splice(at, 1);
        else chars.splice(at, 0, String.fromCharCode(int(r, 128)));
      }
      return chars.join('');
    }
    case 8: // Engine.IO-level garbage
      return pick(r, ['', '7', '8', 'x', 'b', 'bAAAA', '0', '1', '5', '4', '2', '2probe']);
    default:
      return randomText(r, 40);
  }
}

/** What the fuzzers did: packets sent, control packets among them, connections opened. */
export interface FuzzStats {
  sent: number;
  control: number;
  connections: number;
  /** The last packets before a probe the server left unanswered on a live connection. */
  unanswered: string[][];
  /** Frames from the server that show internals (a stack, a path, a secret of the fixtures). */
  leaks: string[];
}

const LEAK = /hunter2|secret\.ts|node_modules|\/work\/|\bat [\w.<>]+ \(|"stack"/;

function checkLeak(stats: FuzzStats, text: string): void {
  if (LEAK.test(text) && stats.leaks.length < 10) stats.leaks.push(text.slice(0, 300));
}

const HARSH = 0.015;

/**
 * Opens raw websocket connections (no socket.io client), joins the main namespace, then sends
 * fuzzed packets until `count` are sent or `deadline` passes. Every 100 packets an echo with an
 * ack checks the connection still works; a harsh packet should get it closed, and the fuzzer
 * then opens a new one.
 */
export async function fuzzWebsocket(
  url: string,
  r: Rand,
  count: number,
  deadline: number,
  stats: FuzzStats,
): Promise<void> {
  const wsUrl = `${url.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`;
  let sentHere = 0;
  let probeId = 0;
  const recent: string[] = [];
  while (sentHere < count && Date.now() < deadline) {
    const ws = new WebSocket(wsUrl);
    stats.connections++;
    const conn = { closed: false };
    let answer: ((ok: boolean) => void) | undefined;
    ws.on('error', () => undefined);
    const joined = new Promise<boolean>((resolve) => {
      ws.on('message', (data, isBinary) => {
        const text = isBinary ? '' : data.toString();
        checkLeak(stats, text);
        if (text === '2') {
          ws.send('3');
          stats.control++;
        } else if (text.startsWith('0')) {
          ws.send('40');
          stats.control++;
        } else if (text.startsWith('40')) resolve(true);
        else if (text.startsWith(`43${probeId}[`)) answer?.(true);
      });
      ws.once('close', () => {
        conn.closed = true;
        resolve(false);
        answer?.(false);
      });
    });
    if (!(await joined)) continue;
    while (!conn.closed && sentHere < count && Date.now() < deadline) {
      const harsh = r() < HARSH;
      const packet = harsh && r() < 0.2 ? randomBytes(r, 64) : fuzzPacket(r, harsh);
      recent.push(typeof packet === 'string' ? packet.slice(0, 80) : `<${packet.length} bytes>`);
      if (recent.length > 3) recent.shift();
      ws.send(packet);
      // A namespace disconnect leaves an idle Engine.IO connection behind (as socket.io allows).
      if (packet === '41') break;
      sentHere++;
      stats.sent++;
      if (harsh || sentHere % 100 === 0) {
        // The probe: answered on a live connection, or the close tells us it is gone.
        if (conn.closed) break;
        const id = ++probeId;
        const alive = new Promise<boolean>((resolve) => (answer = resolve));
        ws.send(`42${id}["echo",${id}]`);
        stats.control++;
        const timer = setTimeout(() => {
          stats.unanswered.push([...recent]);
          answer?.(false);
        }, 5000);
        const ok = await alive;
        clearTimeout(timer);
        if (!ok) break;
      }
    }
    if (!conn.closed) {
      ws.close();
      await once(ws, 'close');
    }
  }
}

/**
 * The same over HTTP long-polling with fetch: a handshake, a namespace connect, then POSTs
 * carrying several fuzzed packets each (separated by the record separator); a harsh packet ends
 * a batch, and should end the session too.
 */
export async function fuzzPolling(
  url: string,
  r: Rand,
  count: number,
  deadline: number,
  stats: FuzzStats,
): Promise<void> {
  const base = `${url}/socket.io/?EIO=4&transport=polling`;
  let sentHere = 0;
  while (sentHere < count && Date.now() < deadline) {
    const open = await fetch(base);
    const body = await open.text();
    stats.connections++;
    if (open.status !== 200) continue;
    const { sid } = JSON.parse(body.slice(1)) as { sid: string };
    const session = `${base}&sid=${sid}`;
    const post = async (payload: string | Uint8Array) => {
      const res = await fetch(session, {
        method: 'POST',
        body: payload,
        headers: {
          'content-type':
            typeof payload === 'string' ? 'text/plain;charset=UTF-8' : 'application/octet-stream',
        },
      });
      await res.arrayBuffer();
      return res.status;
    };
    stats.control++;
    if ((await post('40')) !== 200) continue;
    const state = { alive: true };
    // Long-poll as a real client does: it drains what the server sends, and answers its pings.
    const poller = (async () => {
      while (state.alive) {
        const res = await fetch(session).catch(() => undefined);
        const text = res ? await res.text().catch(() => '') : '';
        if (res?.status !== 200) break;
        checkLeak(stats, text);
        if (text.split('\x1e').includes('2')) await post('3').catch(() => undefined);
      }
      state.alive = false;
    })();
    while (state.alive && sentHere < count && Date.now() < deadline) {
      const batch: string[] = [];
      let bytes = 0;
      // Stay under maxHttpBufferSize (1 MB): a larger body is refused whole with 413.
      for (let i = 1 + int(r, 40); i > 0 && bytes < 400_000; i--) {
        batch.push(fuzzPacket(r, false));
        bytes += batch[batch.length - 1]!.length;
      }
      const harsh = r() < HARSH * 20;
      if (harsh) batch.push(fuzzPacket(r, true));
      const status = await post(batch.join('\x1e'));
      sentHere += batch.length;
      stats.sent += batch.length;
      // The server closes the session (once its buffer is drained): start a new one.
      if (harsh) break;
      if (r() < HARSH) {
        await post(randomBytes(r, 200));
        sentHere++;
        stats.sent++;
        break;
      }
      state.alive = status === 200;
    }
    if (state.alive) {
      stats.control++;
      state.alive = false;
      await post('1').catch(() => undefined);
    }
    await poller;
  }
}
