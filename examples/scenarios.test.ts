/**
 * The example scenarios `npm start` replays describe healthy nodes apart from their announced
 * faults: no free GPU may look as if it held memory with no process on it (which pages
 * GpuMemoryWithoutProcess after 15 minutes).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ReplayBackend } from '../exporter/backends/replay/index.js';

const DIR = new URL('./scenarios/', import.meta.url).pathname;
const GIB = 1024 ** 3;

describe.each(readdirSync(DIR).filter((f) => f.endsWith('.yaml')))('examples/scenarios/%s', (file) => {
  it('has no GPU holding memory without a process, at the start and ten minutes in', async () => {
    let now = Date.now();
    const backend = await ReplayBackend.open({ path: join(DIR, file), now: () => now });
    for (const elapsed of [0, 10 * 60_000]) {
      now += elapsed;
      const { gpus } = await backend.collect();
      const leaking = gpus.filter((g) => (g.memoryUsedBytes ?? 0) > GIB && (g.processes ?? []).length === 0).map((g) => g.index);
      expect(leaking, `${file} at ${elapsed / 60_000} min`).toEqual([]);
    }
  });
});
