import { describe, expect, it } from 'vitest';
import { readHost } from './host.js';

describe('host metrics', () => {
  it('reads this machine: CPU, memory, file systems and network in base units', async () => {
    const h = await readHost();
    expect(h.cpuUtilizationRatio).toBeGreaterThanOrEqual(0);
    expect(h.cpuUtilizationRatio).toBeLessThanOrEqual(1);
    expect(h.memoryTotalBytes).toBeGreaterThan(1024 ** 3);
    expect(h.memoryAvailableBytes).toBeLessThanOrEqual(h.memoryTotalBytes ?? 0);
    for (const f of h.filesystems) {
      expect(f.sizeBytes).toBeGreaterThan(0);
      expect(f.availableBytes).toBeLessThanOrEqual(f.sizeBytes);
    }
    expect(h.filesystems.every((f) => !['tmpfs', 'overlay', 'proc'].includes(f.fstype))).toBe(true);
    expect(h.network.every((n) => n.interface !== 'lo')).toBe(true);
  });
});
