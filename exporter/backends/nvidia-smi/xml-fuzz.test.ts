import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SourceError, type GpuReading } from '../../types.js';
import { parseSmiXml } from './xml.js';

const FIXTURES = new URL('../../../test/fixtures/nvidia-smi/h100-80gb-hbm3-driver-580/', import.meta.url);
const BUSY = readFileSync(new URL('q-busy.xml', FIXTURES), 'utf8');
const ROOT_END = BUSY.indexOf('</nvidia_smi_log>') + '</nvidia_smi_log>'.length;

type Outcome = { kind: 'parsed'; gpus: GpuReading[] } | { kind: 'rejected'; error: SourceError };

/** Parse, failing the property on anything other than a result or a SourceError('parse'). */
function outcome(text: string): Outcome {
  try {
    return { kind: 'parsed', gpus: parseSmiXml(text) };
  } catch (error) {
    if (!(error instanceof SourceError) || error.reason !== 'parse') throw error;
    return { kind: 'rejected', error };
  }
}

/** Every number a reading holds is finite: no NaN from a garbled value. */
function expectSaneReadings(gpus: GpuReading[]): void {
  const visit = (value: unknown): void => {
    if (typeof value === 'number') expect(Number.isFinite(value)).toBe(true);
    else if (value !== null && typeof value === 'object') Object.values(value).forEach(visit);
  };
  for (const gpu of gpus) {
    expect(Number.isInteger(gpu.index)).toBe(true);
    expect(typeof gpu.uuid).toBe('string');
    visit(gpu);
  }
}

const GARBAGE_CHARS = ['<', '>', '/', '&', ';', '"', "'", '=', '!', '?', '[', ']', ' ', '\n', 'a', 'x', '0', '\u0000', 'é'];
const garbage = fc.array(fc.constantFrom(...GARBAGE_CHARS), { minLength: 1, maxLength: 12 }).map((chars) => chars.join(''));

/** One edit of the recording: delete, insert or overwrite a stretch at some position. */
const edit = fc.record({
  at: fc.nat({ max: BUSY.length }),
  remove: fc.nat({ max: 40 }),
  insert: fc.oneof(fc.constant(''), garbage),
});

describe('parseSmiXml never crashes', () => {
  it('rejects every truncation of the recording before its root element closes', () => {
    fc.assert(
      fc.property(fc.nat({ max: BUSY.length }), (cut) => {
        const result = outcome(BUSY.slice(0, cut));
        if (cut < ROOT_END) expect(result.kind).toBe('rejected');
        else expect(result.kind).toBe('parsed');
      }),
      { numRuns: 400 },
    );
  });

  it('gives a sane reading or a parse error for garbled copies of the recording', () => {
    fc.assert(
      fc.property(fc.array(edit, { minLength: 1, maxLength: 4 }), (edits) => {
        let text = BUSY;
        for (const { at, remove, insert } of edits) {
          const position = Math.min(at, text.length);
          text = text.slice(0, position) + insert + text.slice(position + remove);
        }
        const result = outcome(text);
        if (result.kind === 'parsed') expectSaneReadings(result.gpus);
      }),
      { numRuns: 600 },
    );
  });

  it('gives a sane reading when element values are replaced by arbitrary text', () => {
    const valueSpans = [...BUSY.matchAll(/>([^<>\n]+)</g)].map((match) => match.index + 1);
    fc.assert(
      fc.property(
        fc.constantFrom(...valueSpans),
        fc.string({ maxLength: 20 }).map((value) => value.replace(/[<&]/g, '')),
        (start, value) => {
          const end = BUSY.indexOf('<', start);
          const result = outcome(BUSY.slice(0, start) + value + BUSY.slice(end));
          // Only an empty or placeholder uuid can make the document unreadable.
          if (result.kind === 'parsed') expectSaneReadings(result.gpus);
          else expect(result.error.message).toMatch(/no <uuid>/);
        },
      ),
      { numRuns: 600 },
    );
  });

  it('gives a sane reading or a parse error for arbitrary input', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), garbage), (text) => {
        const result = outcome(`<nvidia_smi_log>${text}`);
        if (result.kind === 'parsed') expectSaneReadings(result.gpus);
        const bare = outcome(text);
        if (bare.kind === 'parsed') expectSaneReadings(bare.gpus);
      }),
      { numRuns: 300 },
    );
  });
});
