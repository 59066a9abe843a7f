import { setTimeout as delay } from 'node:timers/promises';
import { MessageBody, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';

/** Handlers the reliability tests lean on: an echo, a slow one, one that never ends, one that throws. */
@WebSocketGateway()
export class ReliabilityGateway {
  @SubscribeMessage('echo')
  echo(@MessageBody() data: unknown) {
    return data;
  }

  @SubscribeMessage('slow')
  async slow(@MessageBody() ms: number) {
    // Capped: the fuzzer sends this event too, with absurd numbers.
    const waited = Math.min(Number(ms) || 0, 2000);
    await delay(waited);
    return { waited };
  }

  @SubscribeMessage('hang')
  hang() {
    return new Promise(() => {});
  }

  @SubscribeMessage('boom')
  boom() {
    const err = new Error('db password is hunter2 at /srv/app/secret.ts');
    throw err;
  }

  @SubscribeMessage('boom-async')
  async boomAsync() {
    await delay(1);
    throw new TypeError("Cannot read properties of undefined (reading 'secret')");
  }
}

/** Engine.IO's handshake over polling: returns the session id. */
export async function pollingHandshake(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ sid: string; status: number }> {
  const res = await fetch(`${url}/socket.io/?EIO=4&transport=polling`, { headers });
  const body = await res.text();
  if (res.status !== 200) return { sid: '', status: res.status };
  const open = JSON.parse(body.slice(1)) as { sid: string };
  return { sid: open.sid, status: res.status };
}

/** POSTs a raw polling payload for a session. */
export async function pollingPost(
  url: string,
  sid: string,
  body: string | Uint8Array,
): Promise<number> {
  const res = await fetch(`${url}/socket.io/?EIO=4&transport=polling&sid=${sid}`, {
    method: 'POST',
    body,
    headers: {
      'content-type':
        typeof body === 'string' ? 'text/plain;charset=UTF-8' : 'application/octet-stream',
    },
  });
  await res.arrayBuffer().catch(() => undefined);
  return res.status;
}
