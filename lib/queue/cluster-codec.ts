import { randomBytes } from 'node:crypto';

/**
 * Wire format of the cluster messages that the AMQP and NATS queues carry: one letter (`j` for
 * plain JSON, `b` when binary values are inside), the sender's process id, then the JSON. The
 * id lets a process skip its own broadcasts without parsing them.
 */
const PLAIN = 0x6a; // 'j'
const WITH_BINARY = 0x62; // 'b'
/** Length of a process id: 16 hexadecimal characters. */
export const PROCESS_ID_LENGTH = 16;
/** The key that marks an encoded binary value: `{ "\u0000bin": "<base64>" }`. */
const BINARY_KEY = '\u0000bin';

/** A new random process id. */
export function newProcessId(): string {
  return randomBytes(PROCESS_ID_LENGTH / 2).toString('hex');
}

/** Encodes a cluster message sent by `processId`. */
export function encodeMessage(processId: string, message: unknown): Buffer {
  const binary = hasBinary(message, 0);
  const json = binary ? JSON.stringify(message, binaryReplacer) : JSON.stringify(message);
  const out = Buffer.allocUnsafe(1 + PROCESS_ID_LENGTH + Buffer.byteLength(json));
  out[0] = binary ? WITH_BINARY : PLAIN;
  out.write(processId, 1, PROCESS_ID_LENGTH, 'latin1');
  out.write(json, 1 + PROCESS_ID_LENGTH, 'utf8');
  return out;
}

/** The id of the process that sent an encoded message. */
export function senderOf(payload: Uint8Array): string {
  return Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString(
    'latin1',
    1,
    1 + PROCESS_ID_LENGTH,
  );
}

/** Decodes a cluster message; binary values come back as Buffers (as socket.io receives them). */
export function decodeMessage<T = Record<string, any>>(payload: Uint8Array): T {
  const bytes = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  const json = bytes.toString('utf8', 1 + PROCESS_ID_LENGTH);
  if (bytes[0] === WITH_BINARY) return JSON.parse(json, binaryReviver) as T;
  if (bytes[0] !== PLAIN) throw new Error('not a nest-socketio cluster message');
  return JSON.parse(json) as T;
}

function binaryReplacer(this: Record<string, unknown>, key: string, value: unknown): unknown {
  // `value` went through toJSON already (a Buffer is { type, data } there): look at the original.
  const raw = this[key];
  if (raw instanceof Uint8Array) {
    return {
      [BINARY_KEY]: Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64'),
    };
  }
  if (raw instanceof ArrayBuffer) return { [BINARY_KEY]: Buffer.from(raw).toString('base64') };
  return value;
}

function binaryReviver(_key: string, value: unknown): unknown {
  if (value && typeof value === 'object' && BINARY_KEY in value) {
    return Buffer.from((value as Record<string, string>)[BINARY_KEY], 'base64');
  }
  return value;
}

/** Whether a value holds binary data anywhere (socket.io payloads nest it in arrays and objects). */
function hasBinary(value: unknown, depth: number): boolean {
  if (!value || typeof value !== 'object' || depth > 64) return false;
  if (value instanceof Uint8Array || value instanceof ArrayBuffer) return true;
  if (Array.isArray(value)) return value.some((v) => hasBinary(v, depth + 1));
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return false;
  for (const key in value) {
    if (hasBinary((value as Record<string, unknown>)[key], depth + 1)) return true;
  }
  return false;
}
