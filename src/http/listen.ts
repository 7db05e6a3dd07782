/** Starting and stopping an HTTP server on a HOST:PORT address, shared by every gpuwatch service. */
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export function parseListen(address: string): { host: string; port: number } {
  const match = /^(?:\[([0-9a-fA-F:]+)\]|([^:]*)):(\d{1,5})$/.exec(address);
  const port = Number(match?.[3]);
  if (!match || port > 65535) throw new Error(`invalid listen address "${address}": expected HOST:PORT`);
  return { host: match[1] ?? (match[2] || '0.0.0.0'), port };
}

export interface Listening {
  server: Server;
  /** The address actually bound (port 0 picks a free one). */
  url: string;
  close(): Promise<void>;
}

/** Serves a request handler (an express app is one) on HOST:PORT. */
export function listen(handler: RequestListener, address: string): Promise<Listening> {
  return new Promise((resolve, reject) => {
    const { host, port } = parseListen(address);
    const server = createServer(handler);
    server.listen(port, host);
    server.once('error', reject);
    server.once('listening', () => {
      const bound = server.address() as AddressInfo;
      const shownHost = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
      resolve({
        server,
        url: `http://${shownHost}:${bound.port}`,
        close: () =>
          new Promise<void>((res) => {
            server.closeAllConnections();
            server.close(() => res());
          }),
      });
    });
  });
}
