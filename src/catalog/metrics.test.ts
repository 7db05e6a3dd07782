import { describe, expect, it } from 'vitest';
import { CATALOG, GPU_LABELS } from './metrics.js';

const UNIT_SUFFIX: Record<string, RegExp> = {
  bytes: /_bytes(_total)?$/,
  seconds: /_seconds(_total)?$/,
  celsius: /_celsius$/,
  watts: /_watts$/,
  joules: /_joules_total$/,
  hertz: /_hertz$/,
  ratio: /_ratio$/,
};

describe('metric catalog', () => {
  it('names each metric once, with the gpuwatch_ prefix and snake case', () => {
    const names = CATALOG.map((m) => m.name);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name).toMatch(/^gpuwatch_[a-z0-9_]+$/);
  });

  it('follows Prometheus conventions: _total only on counters, base units as suffixes', () => {
    for (const m of CATALOG) {
      expect(m.name.endsWith('_total'), m.name).toBe(m.type === 'counter');
      expect(m.name, m.name).not.toMatch(/_count$|_sum$|_bucket$/);
      if (m.type === 'histogram') expect(m.unit, m.name).not.toBe('');
      const suffix = UNIT_SUFFIX[m.unit];
      if (suffix && m.type !== 'histogram') expect(m.name, m.name).toMatch(suffix);
      if (suffix && m.type === 'histogram') expect(m.name, m.name).toMatch(new RegExp(`_${m.unit}$`));
      if (m.unit === '') expect(m.name, m.name).not.toMatch(/_(bytes|seconds|celsius|watts|joules|hertz|ratio)$/);
      expect(m.help.length, m.name).toBeGreaterThan(10);
    }
  });

  it('gives every per-GPU series node, gpu and uuid', () => {
    for (const m of CATALOG.filter((m) => m.name.startsWith('gpuwatch_gpu_'))) {
      expect(m.labels.slice(0, 3), m.name).toEqual([...GPU_LABELS]);
    }
  });
});
