/**
 * The alert quality run (`npm run quality`) in CI: the whole labelled corpus through Debian's
 * Prometheus. Every fault must be detected and nothing may fire on a healthy or blip trace. The
 * time-to-detect goals are printed by `npm run quality` on a quiet machine; here, beside the rest
 * of the suite, only the detections themselves are asserted.
 */
import { describe, expect, it } from 'vitest';
import { runQuality } from './run.js';

describe('alert quality over the labelled corpus, with real Prometheus', () => {
  it('detects every fault and pages for no healthy trace or blip', async () => {
    const score = await runQuality();
    expect(score.detections.filter((d) => d.detectSeconds === undefined)).toEqual([]);
    expect(score.falsePages).toEqual([]);
    expect(score.recall).toBe(1);
    expect(score.rows.filter((r) => r.precision !== undefined && r.precision < 1)).toEqual([]);
  }, 180_000);
});
