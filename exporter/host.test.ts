import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { recordedHost } from '../test/fixtures/host/source.js';
import { renderExposition } from './exposition.js';
import { readHost } from './host.js';

const RECORDED = fileURLToPath(new URL('../test/fixtures/host/', import.meta.url));
/** After a deliberate change: GPUWATCH_UPDATE_GOLDEN=1 npx vitest run exporter/host.test.ts */
const GOLDEN = new URL('../test/golden/host.prom', import.meta.url);

describe('host metrics', () => {
  it('turns a recorded /proc and /sys into the series of test/golden/host.prom', async () => {
    const host = await readHost(recordedHost(RECORDED));
    const text = await renderExposition({ node: 'n1', version: 'X', backend: 'replay', sources: new Map(), host });
    if (process.env.GPUWATCH_UPDATE_GOLDEN === '1') await writeFile(GOLDEN, text);
    expect(text).toBe(await readFile(GOLDEN, 'utf8'));
  });

  it('drops the pseudo file systems df lists and the loopback interface, and counts in bytes', async () => {
    const host = await readHost(recordedHost(RECORDED));
    // df-kP.txt lists devtmpfs, two tmpfs and /dev/vda (in 1 KiB blocks).
    expect(host.filesystems).toEqual([{ mountpoint: '/', fstype: 'ext4', device: '/dev/vda', sizeBytes: 264212084 * 1024, availableBytes: 79821852 * 1024 }]);
    // proc/net/dev lists lo, ifb0 and eth0.
    expect(host.network.map((n) => n.interface)).toEqual(['ifb0', 'eth0']);
    expect(host.memoryTotalBytes).toBe(24683568 * 1024);
  });

  it('reads this machine through systeminformation: something in every list', async () => {
    const h = await readHost();
    expect(h.cpuUtilizationRatio).toBeGreaterThanOrEqual(0);
    expect(h.cpuUtilizationRatio).toBeLessThanOrEqual(1);
    expect(h.memoryTotalBytes).toBeGreaterThan(0);
    expect(h.memoryAvailableBytes).toBeLessThanOrEqual(h.memoryTotalBytes ?? 0);
    expect(h.filesystems.length).toBeGreaterThan(0);
    expect(h.network.length).toBeGreaterThan(0);
    for (const f of h.filesystems) expect(f.availableBytes).toBeLessThanOrEqual(f.sizeBytes);
  });
});
