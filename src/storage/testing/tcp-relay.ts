/**
 * A TCP relay in front of a database server, for failure tests and benchmarks: it can stop (the
 * server is gone), start again on the same port, or go silent (connections stay open, nothing is
 * answered any more) — the ways a real store fails.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export class TcpRelay {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private silent = false;
  /** The relay's port on 127.0.0.1 (chosen at the first start, kept across restarts). */
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async start(): Promise<void> {
    this.silent = false;
    this.server = createServer((client) => this.relay(client));
    await new Promise<void>((resolve, reject) => {
      this.server?.once('error', reject);
      this.server?.listen(this.port, '127.0.0.1', resolve);
    });
    this.port = (this.server.address() as { port: number }).port;
  }

  /** Stops answering on open connections, and accepts new ones without ever answering. */
  goSilent(): void {
    this.silent = true;
  }

  /** Closes every connection and the listening socket. */
  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private relay(client: Socket): void {
    this.track(client);
    if (this.silent) return;
    const upstream = connect(this.targetPort, this.targetHost);
    this.track(upstream);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    client.on('data', (chunk: Buffer) => {
      if (!this.silent) upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!this.silent) client.write(chunk);
    });
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
  }

  private track(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
  }
}
