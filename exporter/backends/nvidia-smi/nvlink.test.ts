import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderExposition } from '../../exposition.js';
import { sanitizeSnapshot } from '../../sanitize.js';
import { SourceError } from '../../types.js';
import { nvLinkReadings, parseNvLinkLines } from './nvlink.js';

const FIXTURES = new URL('../../../test/fixtures/nvidia-smi/constructed-nvlink-8x-h100/', import.meta.url);
const fixture = (name: string) => readFileSync(new URL(name, FIXTURES), 'utf8');
const KIB = 1024;
const uuid = (gpu: number) => (gpu === 0 ? 'GPU-965f6752-50c3-d610-d7ce-6a93e5f52882' : `GPU-1b6a3f40-7d2e-4c55-9a10-00000000000${gpu}`);
/** The data counters as the fixture's README gives them. */
const sentKib = (gpu: number, link: number) => 5863784 + 104729 * gpu + 317 * link;
const receivedKib = (gpu: number, link: number) => 5862999 + 104723 * gpu + 211 * link;

function readFixture() {
  return nvLinkReadings(
    parseNvLinkLines(fixture('nvlink-s.txt'), 'nvidia-smi nvlink -s'),
    parseNvLinkLines(fixture('nvlink-e.txt'), 'nvidia-smi nvlink -e'),
    parseNvLinkLines(fixture('nvlink-gt-d.txt'), 'nvidia-smi nvlink -gt d'),
  );
}

describe('nvidia-smi nvlink -s, -e and -gt d', () => {
  it('reads every active link of the seven SXM GPUs, and nothing for the PCIe card', () => {
    const readings = readFixture();
    expect([...readings.keys()]).toEqual([0, 1, 2, 3, 4, 5, 6].map(uuid));
    expect(readings.has(uuid(7))).toBe(false);
    expect(readings.get(uuid(0))).toHaveLength(18);
    expect(readings.get(uuid(1))![17]).toEqual({
      link: 17,
      errors: { replay: 0, recovery: 0, crc_flit: 0 },
      transmitBytes: sentKib(1, 17) * KIB,
      receiveBytes: receivedKib(1, 17) * KIB,
    });
  });

  it('reads the error counts per link and type', () => {
    const readings = readFixture();
    expect(readings.get(uuid(2))![5]!.errors).toEqual({ replay: 3, recovery: 1, crc_flit: 12 });
    expect(readings.get(uuid(4))![11]!.errors).toEqual({ replay: 1, recovery: 0, crc_flit: 0 });
  });

  it('leaves out an inactive link, and a counter reading N/A on an active one', () => {
    const readings = readFixture();
    const gpu5 = readings.get(uuid(5))!;
    expect(gpu5.map((l) => l.link)).toEqual([0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17]);
    expect(readings.get(uuid(6))![0]).toEqual({
      link: 0,
      errors: { recovery: 0, crc_flit: 0 },
      transmitBytes: sentKib(6, 0) * KIB,
      receiveBytes: receivedKib(6, 0) * KIB,
    });
  });

  it('exports an absent counter as no series, never as 0', async () => {
    const gpu6 = readFixture().get(uuid(6))!;
    const text = await renderExposition({
      node: 'n',
      version: '1',
      backend: 'nvidia-smi',
      sources: new Map(),
      gpus: { gpus: [{ index: 6, uuid: uuid(6), nvlinks: gpu6 }] },
    });
    expect(text).toMatch(/^gpuwatch_gpu_nvlink_errors_total\{[^}]*link="0",type="recovery"\} 0$/m);
    expect(text).not.toMatch(/link="0",type="replay"/);
    expect(text).not.toMatch(/type="crc_data"/);
  });

  it('keeps a negative count for the impossible-value check rather than dropping it unseen', () => {
    const lines = parseNvLinkLines('GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-a)\n\t Link 0: Replay Errors: -4\n', 'nvidia-smi nvlink -e');
    const state = parseNvLinkLines('GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-a)\n\t Link 0: 26.562 GB/s\n', 'nvidia-smi nvlink -s');
    const nvlinks = nvLinkReadings(state, lines, new Map()).get('GPU-a');
    expect(nvlinks).toEqual([{ link: 0, errors: { replay: -4 } }]);
    const { snapshot, invalid } = sanitizeSnapshot({ gpus: [{ index: 0, uuid: 'GPU-a', nvlinks }] });
    expect(snapshot.gpus[0]!.nvlinks).toEqual([{ link: 0, errors: {} }]);
    expect(Object.fromEntries(invalid)).toEqual({ gpuwatch_gpu_nvlink_errors_total: 1 });
  });

  it('names the command, line and text of a line it cannot read', () => {
    const text = fixture('nvlink-e.txt').replace('\t Link 3: Recovery Errors: 0', '\t Lnk 3: Recovery Errors: 0');
    const line = text.split('\n').indexOf('\t Lnk 3: Recovery Errors: 0') + 1;
    expect(() => parseNvLinkLines(text, 'nvidia-smi nvlink -e')).toThrow(
      new SourceError('parse', `nvidia-smi nvlink -e: line ${line}: not a link line: "Lnk 3: Recovery Errors: 0"`),
    );
    expect(() => parseNvLinkLines('\t Link 0: Data Tx: 5 KiB\n', 'nvidia-smi nvlink -gt d')).toThrow(/line 1: a line before the first GPU/);
    const twice = `${fixture('nvlink-s.txt')}GPU 8: NVIDIA H100 80GB HBM3 (UUID: ${uuid(0)})\n`;
    expect(() => parseNvLinkLines(twice, 'nvidia-smi nvlink -s')).toThrow(/line 136: a GPU listed twice/);
  });

  it('refuses a counter that is neither a number (in KiB for data) nor a placeholder, naming GPU, link and label', () => {
    const state = parseNvLinkLines(fixture('nvlink-s.txt'), 'nvidia-smi nvlink -s');
    const errors = parseNvLinkLines(fixture('nvlink-e.txt').replace('\t Link 2: CRC Errors: 0', '\t Link 2: CRC Errors: many'), 'nvidia-smi nvlink -e');
    const data = parseNvLinkLines(fixture('nvlink-gt-d.txt'), 'nvidia-smi nvlink -gt d');
    expect(() => nvLinkReadings(state, errors, data)).toThrow(`nvidia-smi nvlink -e: GPU ${uuid(0)} link 2: CRC Errors is not a count: "many"`);
    const inMib = parseNvLinkLines(
      fixture('nvlink-gt-d.txt').replace('\t Link 1: Data Rx: 5863210 KiB', '\t Link 1: Data Rx: 5726 MiB'),
      'nvidia-smi nvlink -gt d',
    );
    expect(() => nvLinkReadings(state, parseNvLinkLines(fixture('nvlink-e.txt'), 'nvidia-smi nvlink -e'), inMib)).toThrow(
      `nvidia-smi nvlink -gt d: GPU ${uuid(0)} link 1: Data Rx is not a count: "5726 MiB"`,
    );
  });

  it('refuses a link state that is neither a speed nor <inactive>', () => {
    const state = parseNvLinkLines(fixture('nvlink-s.txt').replace('\t Link 4: 26.562 GB/s', '\t Link 4: degraded'), 'nvidia-smi nvlink -s');
    expect(() => nvLinkReadings(state, new Map(), new Map())).toThrow(`nvidia-smi nvlink -s: GPU ${uuid(0)} link 4: not a speed or <inactive>: "degraded"`);
  });
});
