import WebSocket from 'ws';

/**
 * A raw Engine.IO v4 / Socket.IO v5 client that keeps every packet the server sends, in order,
 * as text (`40{"sid":…}`, `42["ev",…]`): for tests of the wire itself.
 */
export interface RawClient {
  /** The Socket.IO packets received so far (Engine.IO message packets only, pings answered). */
  readonly packets: string[];
  send(packet: string): Promise<void>;
  /** Polling only: POSTs a raw Engine.IO payload. */
  post(payload: string): Promise<void>;
  /** Resolves once `count` packets arrived (or rejects after `timeoutMs`). */
  waitFor(count: number, timeoutMs?: number): Promise<string[]>;
  /** Resolves once the server closed the connection. */
  readonly closed: Promise<void>;
  close(): void;
}

const base = (url: string) => `${url}/socket.io/?EIO=4`;

/** Resolves when `check()` holds, re-checked whenever `wake` fires. */
function waiter(packets: string[]) {
  const wakers = new Set<() => void>();
  return {
    wake: () => wakers.forEach((w) => w()),
    waitFor(count: number, timeoutMs = 5000): Promise<string[]> {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (packets.length < count) return;
          clearTimeout(timer);
          wakers.delete(check);
          resolve(packets.slice());
        };
        const timer = setTimeout(() => {
          wakers.delete(check);
          reject(new Error(`${packets.length} of ${count} packets: ${JSON.stringify(packets)}`));
        }, timeoutMs);
        wakers.add(check);
        check();
      });
    },
  };
}

/** Opens a raw websocket connection (no polling first). */
export async function rawWebSocket(url: string): Promise<RawClient> {
  const ws = new WebSocket(`${base(url).replace(/^http/, 'ws')}&transport=websocket`);
  const packets: string[] = [];
  const { wake, waitFor } = waiter(packets);
  const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    ws.on('message', (data) => {
      const text = String(data);
      if (text[0] === '0') resolve();
      else if (text === '2') ws.send('3');
      else if (text[0] === '4') {
        packets.push(text.slice(1));
        wake();
      }
    });
    ws.once('error', reject);
  });
  return {
    packets,
    waitFor,
    closed,
    send: (packet) =>
      new Promise<void>((resolve, reject) =>
        ws.send(`4${packet}`, (err) => (err ? reject(err) : resolve())),
      ),
    post: () => Promise.reject(new Error('post() is for polling')),
    close: () => ws.close(),
  };
}

/** Opens a raw long-polling connection and keeps a GET pending to read what the server sends. */
export async function rawPolling(url: string): Promise<RawClient> {
  const open = await fetch(`${base(url)}&transport=polling`);
  const body = await open.text();
  const { sid } = JSON.parse(body.slice(1)) as { sid: string };
  const endpoint = `${base(url)}&transport=polling&sid=${sid}`;
  const packets: string[] = [];
  const { wake, waitFor } = waiter(packets);
  let stopped = false;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve));
  const post = async (payload: string) => {
    const res = await fetch(endpoint, { method: 'POST', body: payload });
    await res.text();
  };
  void (async () => {
    while (!stopped) {
      const res = await fetch(endpoint).catch(() => undefined);
      if (!res || res.status !== 200) break;
      for (const frame of (await res.text()).split('\x1e')) {
        if (frame === '2') await post('3').catch(() => undefined);
        else if (frame === '1') stopped = true;
        else if (frame[0] === '4') packets.push(frame.slice(1));
      }
      wake();
    }
    resolveClosed();
  })();
  return {
    packets,
    waitFor,
    closed,
    send: (packet) => post(`4${packet}`),
    post,
    close: () => {
      stopped = true;
      void post('1').catch(() => undefined);
    },
  };
}
