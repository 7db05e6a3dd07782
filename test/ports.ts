/**
 * Free loopback ports for tests and benchmarks that must name a port before the server starts.
 * They are drawn below the kernel's ephemeral range (32768–60999 by default): a port handed out
 * by `listen(0)` or taken as the local end of an outgoing connection — by another test running in
 * parallel — can then never be the one just picked here.
 */
import { createServer } from 'node:net';

const LOWEST = 20_000;
const BELOW_EPHEMERAL = 32_000;

const isFree = (port: number) =>
  new Promise<boolean>((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });

/** The first of `count` consecutive free ports, tried from a few random bases. */
export async function freePortRange(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = LOWEST + Math.floor(Math.random() * (BELOW_EPHEMERAL - LOWEST - count));
    let ok = true;
    for (let i = 0; i < count && ok; i++) ok = await isFree(base + i);
    if (ok) return base;
  }
  throw new Error(`no ${count} consecutive free ports found`);
}

export function freePort(): Promise<number> {
  return freePortRange(1);
}
