import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { listen, type Listening } from '../../../src/http/listen.js';
import { Collector } from '../../collector.js';
import { exporterHandler } from '../../server.js';
import type { GpuBackend, GpuSnapshot } from '../../types.js';
import { parseSmiXmlDocument, parseSmiXmlInSteps } from './xml.js';
import { withoutUnreadSections } from './xml-skip.js';

const FIXTURES = new URL('../../../test/fixtures/nvidia-smi/h100-80gb-hbm3-driver-580/', import.meta.url);
const busy = readFileSync(new URL('q-busy.xml', FIXTURES), 'utf8');
const gpuStart = busy.indexOf('<gpu ');
const gpuEnd = busy.indexOf('</gpu>') + '</gpu>'.length;
const HEAD = busy.slice(0, gpuStart);
const TAIL = busy.slice(gpuEnd);
const GPU = busy.slice(gpuStart, gpuEnd);

/** The recorded GPU `count` times, each with its own uuid (`uuidOf` may make one N/A or a duplicate). */
function document(count: number, uuidOf: (index: number) => string = (i) => `GPU-copy-${i}`): string {
  const gpus = Array.from({ length: count }, (_, i) => GPU.replace(/<uuid>[^<]*<\/uuid>/, `<uuid>${uuidOf(i)}</uuid>`));
  return HEAD + gpus.join('\n') + TAIL;
}

/**
 * Four recorded GPUs, then a nesting nvidia-smi never writes: `nesting` unread-section open tags,
 * a `<gpu>` inside them, and their close tags. Every open tag's first close lies past that GPU's
 * end, the case where looking for each close tag from its open tag takes quadratic time.
 */
function badlyNested(nesting: number): string {
  const inner = '<gpu id="x"><uuid>GPU-nested</uuid></gpu>';
  const gpus = Array.from({ length: 4 }, (_, i) => GPU.replace(/<uuid>[^<]*<\/uuid>/, `<uuid>GPU-copy-${i}</uuid>`));
  return HEAD + gpus.join('\n') + '<fabric>'.repeat(nesting) + inner + '</fabric>'.repeat(nesting) + TAIL;
}

describe('a GPU without a UUID', () => {
  it('is left out and counted; the other seven GPUs of the document are kept', () => {
    const text = document(8, (i) => (i === 3 ? 'N/A' : `GPU-copy-${i}`));
    const parsed = parseSmiXmlDocument(text);
    expect(parsed.gpus.map((g) => g.uuid)).toEqual([0, 1, 2, 4, 5, 6, 7].map((i) => `GPU-copy-${i}`));
    expect(parsed.gpus.map((g) => g.index)).toEqual([0, 1, 2, 4, 5, 6, 7]);
    expect(parsed.skippedGpus).toEqual({ no_uuid: 1 });
    expect(parsed.gpus[4]?.utilizationRatio).toBe(1);
  });

  it('counts nothing when every GPU has one', () => {
    expect(parseSmiXmlDocument(document(2)).skippedGpus).toEqual({});
  });
});

describe('parsing in steps', () => {
  it('passes over a badly nested 2.5 MB document once, leaving sections it cannot close as they are', () => {
    const text = badlyNested(150_000);
    expect(text.length).toBeGreaterThan(2_500_000);
    const cut = withoutUnreadSections(text);
    expect(cut).toContain('<fabric>'.repeat(150_000));
    expect(cut.length).toBeLessThan(text.length);
  });

  it('parses a badly nested 2.5 MB document in bounded steps, pausing after each', async () => {
    const text = badlyNested(150_000);
    const stepChars = 64 * 1024;
    const cutLength = withoutUnreadSections(text).length;
    let steps = 0;
    const parsed = await parseSmiXmlInSteps(text, { stepChars, pause: async () => void steps++ });
    expect(parsed.gpus.map((g) => g.uuid)).toEqual([0, 1, 2, 3].map((i) => `GPU-copy-${i}`));
    expect(steps).toBe(Math.ceil(cutLength / stepChars));
    expect(steps).toBeGreaterThan(30);
  });

  it('rejects a malformed document after the step that shows it', async () => {
    const text = document(4).replace('</uuid>', '</uid>');
    let steps = 0;
    await expect(parseSmiXmlInSteps(text, { stepChars: 1000, pause: async () => void steps++ })).rejects.toThrow(/malformed or truncated/);
    expect(steps).toBeLessThan(3);
  });

  it('gives the same result as the one-go parse', async () => {
    const text = document(8, (i) => (i === 5 ? 'N/A' : `GPU-copy-${i}`));
    expect(await parseSmiXmlInSteps(text, { stepChars: 1000 })).toEqual(parseSmiXmlDocument(text));
  });
});

describe('a scrape during a parse', () => {
  let server: Listening | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('is answered before the parse of a long document ends', async () => {
    const source: GpuBackend = {
      name: 'replay',
      collect: async (): Promise<GpuSnapshot> => ({ gpus: [{ index: 0, uuid: 'GPU-0' }] }),
      close: async () => {},
    };
    const collector = new Collector({ node: 'n1', version: '1', backend: source, intervalMs: 1000, timeoutMs: 1000, log: pino({ level: 'silent' }) });
    await collector.collectOnce();
    server = await listen(exporterHandler(collector), '127.0.0.1:0');
    await (await fetch(`${server.url}/metrics`)).text(); // fetch loads lazily: warm it first
    const order: string[] = [];
    const parse = parseSmiXmlInSteps(document(400), { stepChars: 16 * 1024 }).then((parsed) => {
      order.push('parse');
      return parsed;
    });
    const scrape = fetch(`${server.url}/metrics`).then(async (res) => {
      order.push('scrape');
      return res.text();
    });
    const [parsed, body] = await Promise.all([parse, scrape]);
    expect(parsed.gpus).toHaveLength(400);
    expect(body).toContain('gpuwatch_gpu_info{');
    expect(order).toEqual(['scrape', 'parse']);
  });
});
