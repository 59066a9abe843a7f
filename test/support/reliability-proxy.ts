import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * A round-robin TCP load balancer for tests: each new connection goes to the next backend that
 * accepts it, as a load balancer in front of several app processes does (websocket transport
 * only, so no sticky sessions are needed).
 */
export class RoundRobinProxy {
  private server?: Server;
  private next = 0;
  private readonly sockets = new Set<Socket>();
  url = '';

  /** `delayMs`: what a backend sends reaches the client this much later (a slow link). */
  constructor(
    private readonly backends: { port: number }[],
    private readonly delayMs = 0,
  ) {}

  async start(): Promise<void> {
    this.server = createServer((incoming) => this.route(incoming, 0));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as { port: number };
    this.url = `http://127.0.0.1:${port}`;
  }

  private route(incoming: Socket, tried: number): void {
    if (tried >= this.backends.length) {
      incoming.destroy();
      return;
    }
    incoming.pause();
    const backend = this.backends[this.next++ % this.backends.length]!;
    const outgoing = createConnection({ host: '127.0.0.1', port: backend.port });
    outgoing.once('error', () => {
      if (!outgoing.readyState.includes('open')) this.route(incoming, tried + 1);
    });
    outgoing.once('connect', () => {
      outgoing.removeAllListeners('error');
      this.sockets.add(incoming).add(outgoing);
      const close = () => {
        incoming.destroy();
        outgoing.destroy();
        this.sockets.delete(incoming);
        this.sockets.delete(outgoing);
      };
      incoming.on('error', close).on('close', close);
      outgoing.on('error', close).on('close', close);
      incoming.pipe(outgoing);
      if (this.delayMs > 0) {
        // Equal delays keep the order: timers of one duration fire in the order they were set.
        outgoing.on('data', (chunk) => {
          setTimeout(() => incoming.writable && incoming.write(chunk), this.delayMs);
        });
      } else outgoing.pipe(incoming);
      incoming.resume();
    });
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) =>
      this.server ? this.server.close(() => resolve()) : resolve(),
    );
  }
}
