/**
 * A supervised process is started again after it dies, with the same command line, and left down
 * after too many deaths in the window; stopping it stops it for good. A real HTTP server in a child
 * Node.js process stands in for an engine.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../src/log.js';
import { eventually } from '../src/testing/eventually.js';
import { freePort } from '../test/ports.js';
import { startSupervised, type Supervised } from './supervised.js';

const log = createLogger('supervised-test', 'silent');
let running: Supervised | undefined;

afterEach(async () => {
  await running?.stop();
  running = undefined;
});

async function server(): Promise<Supervised> {
  const port = await freePort();
  const script = `require('node:http').createServer((q, s) => s.end('ok')).listen(${port}, '127.0.0.1')`;
  running = await startSupervised(
    { name: 'test-server', binary: process.execPath, args: ['-e', script], listen: `127.0.0.1:${port}`, options: { readyPath: '/' } },
    log,
    { maxRestarts: 2, windowMs: 60_000, delayMs: 50 },
  );
  return running;
}

const answers = async (p: Supervised) =>
  (await fetch(p.url)
    .then((r) => r.ok)
    .catch(() => false)) || undefined;

describe('startSupervised', () => {
  it('starts a process that was killed again, on the same address', async () => {
    const p = await server();
    const first = p.child.pid;
    p.child.kill('SIGKILL');
    await eventually(async () => (p.restarts === 1 && (await answers(p)) ? true : undefined), 10_000, 'the restart');
    expect(p.child.pid).not.toBe(first);
  });

  it('leaves it down after maxRestarts deaths within the window', async () => {
    const p = await server();
    for (let i = 1; i <= 2; i++) {
      p.child.kill('SIGKILL');
      await eventually(async () => (p.restarts === i && (await answers(p)) ? true : undefined), 10_000, `restart ${i}`);
    }
    p.child.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 500));
    expect(p.restarts).toBe(2);
    expect(await answers(p)).toBeUndefined();
  });

  it('does not start it again once stopped', async () => {
    const p = await server();
    await p.stop();
    await new Promise((r) => setTimeout(r, 300));
    expect(p.restarts).toBe(0);
    expect(await answers(p)).toBeUndefined();
  });
});
