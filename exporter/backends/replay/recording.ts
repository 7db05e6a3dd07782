/**
 * Recorded nvidia-smi output as replay frames: a `-q -x` XML file, a `--query-gpu --format=csv`
 * file (with its header line, units allowed), or a directory of such files played in name order.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { parseQueryGpuCsv } from '../nvidia-smi/csv.js';
import { parseSmiXml } from '../nvidia-smi/xml.js';
import { SourceError, type GpuReading } from '../../types.js';

/** One recorded moment: the GPUs as one read of the source returned them. */
export type Frame = GpuReading[];

export async function loadRecording(path: string): Promise<Frame[]> {
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new SourceError('io', `replay source ${path} does not exist`);
  if (!info.isDirectory()) return loadFile(path);
  const names = (await readdir(path)).filter((n) => ['.xml', '.csv'].includes(extname(n))).sort();
  if (names.length === 0) throw new SourceError('io', `replay directory ${path} holds no .xml or .csv file`);
  const frames: Frame[] = [];
  for (const name of names) frames.push(...(await loadFile(join(path, name))));
  return frames;
}

async function loadFile(file: string): Promise<Frame[]> {
  const text = await readFile(file, 'utf8');
  try {
    if (extname(file) === '.xml') return [parseSmiXml(text)];
    return parseCsvWithHeader(text);
  } catch (err) {
    throw new SourceError('parse', `replay source ${file}: ${(err as Error).message}`);
  }
}

const UNIT_SUFFIX = / (%|MiB|W|MHz|C|J|us|mJ)$/;

/**
 * A CSV recorded with `--format=csv`: the header names the fields (units in brackets are dropped),
 * values may carry units. Rows are grouped into frames: a frame ends when a GPU index repeats.
 */
export function parseCsvWithHeader(text: string): Frame[] {
  const [header, ...rows] = text.split('\n').filter((l) => l.trim() !== '');
  if (header === undefined) throw new Error('empty CSV');
  const fields = header.split(',').map((f) => f.trim().replace(/ \[.*\]$/, ''));
  if (!fields.includes('uuid')) throw new Error('CSV header must name the uuid field');
  const body = rows
    .map((row) =>
      row
        .split(',')
        .map((v) => v.trim().replace(UNIT_SUFFIX, ''))
        .join(', '),
    )
    .join('\n');
  const readings = parseQueryGpuCsv(body, fields);
  const frames: Frame[] = [];
  let frame: Frame = [];
  for (const r of readings) {
    if (frame.some((g) => g.uuid === r.uuid)) {
      frames.push(frame);
      frame = [];
    }
    frame.push(r);
  }
  if (frame.length > 0) frames.push(frame);
  return frames;
}
