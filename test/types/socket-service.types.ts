// Compile-time checks of the generic SocketService, run by `npm run typecheck` (tsc -p tsconfig.json).
// Every `@ts-expect-error` below must be an error; if one stops being one, tsc fails.
import type { SocketService } from 'nest-socketio';

interface ClientToServer {
  join: (room: string) => void;
}

interface ServerToClient {
  chat: (message: { text: string; from: string }) => void;
  tick: (n: number) => void;
  ping: () => void;
}

declare const sockets: SocketService<ClientToServer, ServerToClient>;
declare const untyped: SocketService;
// As the README shows it: no client-to-server map.
declare const emitOnly: SocketService<{}, ServerToClient>;

export function typedEmits(): void {
  sockets.emit('chat', { text: 'hi', from: 'bot' });
  sockets.emit('tick', 1, { to: 'room-1', skipSid: 'sid-1', volatile: true });
  sockets.emit('ping');

  // @ts-expect-error wrong payload type
  sockets.emit('tick', 'one');
  // @ts-expect-error missing field in the payload
  sockets.emit('chat', { text: 'hi' });
  // @ts-expect-error an event the map does not have
  sockets.emit('unknown', 1);
  // @ts-expect-error an option that does not exist
  sockets.emit('tick', 1, { room: 'x' });

  emitOnly.emit('tick', 1);
  // @ts-expect-error wrong payload type
  emitOnly.emit('tick', 'one');

  // Without event maps, anything goes.
  untyped.emit('anything', { at: 'all' });
  untyped.emit('bare');
}

export async function typedResults(): Promise<void> {
  const answer: string = await sockets.call<string>('question', 'ready?', { to: 'sid' });
  const rooms: string[] = await sockets.rooms({ sid: 'sid' });
  // @ts-expect-error call needs `to`
  await sockets.call('question', 1, {});
  // @ts-expect-error rooms resolves with strings
  const wrong: number[] = await sockets.rooms({ sid: 'sid' });
  void answer;
  void rooms;
  void wrong;
  // The server is typed with the same maps.
  sockets.server.emit('tick', 2);
  // @ts-expect-error the server checks payloads too
  sockets.server.emit('tick', 'two');
}
