import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { QUERY_FIELDS } from './csv.js';
import { NvidiaSmiBackend } from './index.js';
import { chooseQueryFields, fieldsInHelp } from './query-fields.js';

const FIXTURES = new URL('../../../test/fixtures/nvidia-smi/h100-80gb-hbm3-driver-580/', import.meta.url);
const FAKE = fileURLToPath(new URL('../../../test/fake-nvidia-smi/nvidia-smi.mjs', import.meta.url));
const help = readFileSync(new URL('help-query-gpu.txt', FIXTURES), 'utf8');
const recordedFields = readFileSync(new URL('query-gpu-fields.txt', FIXTURES), 'utf8').trim().split('\n');

describe('the fields a driver lists in --help-query-gpu', () => {
  it('are every field of the recorded driver 580, aliases included', () => {
    const known = fieldsInHelp(help);
    for (const field of recordedFields) expect(known).toContain(field);
    expect(known).toContain('clocks_throttle_reasons.active');
    expect(known).toContain('gpu_uuid');
    expect(known).not.toContain('YYYY/MM/DD');
  });

  it('keep the current names where the driver knows them', () => {
    expect(chooseQueryFields(QUERY_FIELDS, fieldsInHelp(help))).toEqual({ fields: [...QUERY_FIELDS], missing: [] });
  });

  it('become the clocks_throttle_reasons names on a driver before 535, and unknown fields are left out', () => {
    const old = new Set(['index', 'uuid', 'clocks_throttle_reasons.active', 'clocks_throttle_reasons.supported']);
    const chosen = chooseQueryFields(['index', 'uuid', 'clocks_event_reasons.supported', 'clocks_event_reasons.active', 'power.default_limit'], old);
    expect(chosen).toEqual({
      fields: ['index', 'uuid', 'clocks_throttle_reasons.supported', 'clocks_throttle_reasons.active'],
      missing: ['power.default_limit'],
    });
  });
});

describe('the nvidia-smi backend on a driver before 535', () => {
  let backend: NvidiaSmiBackend | undefined;
  afterEach(async () => {
    await backend?.close();
    delete process.env.FAKE_NVIDIA_SMI_OLD_DRIVER;
  });

  it('streams the clock-event reasons under their older names instead of failing the stream', async () => {
    process.env.FAKE_NVIDIA_SMI_OLD_DRIVER = '1';
    const errors: string[] = [];
    backend = new NvidiaSmiBackend({ binary: FAKE, streamIntervalMs: 50, timeoutMs: 5000, onError: (r, m) => errors.push(`${r}: ${m}`) });
    let snapshot = await backend.collect();
    // The first answers may come from -q -x alone (it says 100 %); the stream says 99 %.
    for (let i = 0; i < 100 && snapshot.gpus[0]?.utilizationRatio !== 0.99; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      snapshot = await backend.collect();
    }
    expect(errors).toEqual([]);
    expect(snapshot.gpus[0]?.utilizationRatio).toBe(0.99);
    expect(snapshot.gpus[0]?.clockEventReasons?.sw_power_cap).toBeTypeOf('boolean');
    expect(backend.streamFields).toContain('clocks_throttle_reasons.active');
    expect(backend.streamFields).not.toContain('clocks_event_reasons.active');
  });
});
