/** The layout constants served for scraping are the gpuwatch-layout group's, series for rule. */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { createContext } from '../context.js';
import { layoutRules } from '../recording.js';
import { SCALE_EXAMPLE } from '../testing/scale-support.js';
import { serveLayoutMetrics } from './command.js';
import { layoutRegistry } from './series.js';

const seriesLines = (text: string) =>
  text
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .sort();

describe('gpuwatch layout-metrics', () => {
  it('exposes one series per layout rule, with its labels and value', async () => {
    const ctx = createContext(await loadConfig(SCALE_EXAMPLE));
    const expected = layoutRules(ctx).map((r) => {
      const labels = Object.entries(r.labels ?? {})
        .map(([k, v]) => `${k}="${v}"`)
        .join(',');
      return `${r.record}{${labels}} ${/\d+/.exec(r.expr)?.[0]}`;
    });
    expect(expected).toHaveLength(4);
    expect(seriesLines(await layoutRegistry(ctx).metrics())).toEqual(expected.sort());
  });

  it('serves them on /metrics and answers /healthz', async () => {
    const running = await serveLayoutMetrics(SCALE_EXAMPLE, '127.0.0.1:0');
    try {
      expect(running.series).toBe(4);
      expect(seriesLines(await (await fetch(`${running.url}/metrics`)).text())).toContain(
        'gpuwatch:node_gpus_expected:layout{cluster="pai-small",node="pai-worker-2"} 4',
      );
      expect((await fetch(`${running.url}/healthz`)).status).toBe(200);
      expect((await fetch(`${running.url}/other`)).status).toBe(404);
    } finally {
      await running.close();
    }
  });
});
