/**
 * How fast `nvidia-smi -q -x` output is read: our streaming parser (saxes, reads only the elements
 * it needs) against node-nvidia-smi's way (xml2js `parseString` with `{explicitArray: false,
 * trim: true}`, building the whole document as objects), on an 8-GPU document made from the
 * recorded H100 fixture.
 *
 * Run directly: `npx tsx bench/xml-parse.ts`.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { parseSmiXml } from '../exporter/backends/nvidia-smi/xml.js';

const FIXTURE = fileURLToPath(new URL('../test/fixtures/nvidia-smi/h100-80gb-hbm3-driver-580/q-busy.xml', import.meta.url));
const GPU_COUNT = 8;
const ROUNDS = 15;

export interface XmlParseBenchRow {
  name: string;
  /** Median over rounds of the mean time of one parse within a round. */
  medianMs: number;
  iterationsPerRound: number;
}

export interface XmlParseBenchResult {
  rows: XmlParseBenchRow[];
  /** node-nvidia-smi's median divided by ours: how many times faster our parser is. */
  ratio: number;
  documentBytes: number;
  gpuCount: number;
}

type XmlCallback = (error: Error | null, result: unknown) => void;
interface Xml2js {
  parseString(text: string, options: { explicitArray: boolean; trim: boolean }, callback: XmlCallback): void;
}

/** The recorded one-GPU document with its `<gpu>` repeated `count` times (distinct UUIDs and bus ids). */
export function buildMultiGpuDocument(singleGpuXml: string, count: number): string {
  const gpuStart = singleGpuXml.indexOf('<gpu ');
  const gpuEnd = singleGpuXml.indexOf('</gpu>') + '</gpu>'.length;
  if (gpuStart === -1 || gpuEnd < gpuStart) throw new Error('fixture has no <gpu> element');
  const gpu = singleGpuXml.slice(gpuStart, gpuEnd);
  const copies: string[] = [];
  for (let index = 0; index < count; index++) {
    const suffix = index.toString(16).padStart(2, '0');
    copies.push(
      gpu
        .replace(/<uuid>GPU-([0-9a-f-]+)[0-9a-f]{2}<\/uuid>/, `<uuid>GPU-$1${suffix}</uuid>`)
        .replace(/<gpu id="[^"]*">/, `<gpu id="00000000:${suffix}:00.0">`),
    );
  }
  const head = singleGpuXml.slice(0, gpuStart).replace(/<attached_gpus>\d+<\/attached_gpus>/, `<attached_gpus>${count}</attached_gpus>`);
  return head + copies.join('\n\t') + singleGpuXml.slice(gpuEnd);
}

function loadXml2js(): Xml2js {
  // node-nvidia-smi's own dependency; CommonJS without bundled types.
  return createRequire(import.meta.url)('xml2js') as Xml2js;
}

/** node-nvidia-smi's parse step, exactly as it calls xml2js. */
function parseLikeNodeNvidiaSmi(xml2js: Xml2js, text: string): unknown {
  let parsed: unknown;
  let failure: Error | null = null;
  let answered = false;
  xml2js.parseString(text, { explicitArray: false, trim: true }, (error, result) => {
    answered = true;
    failure = error;
    parsed = result;
  });
  // xml2js answers synchronously unless asked for async mode; make sure of it so we time the work.
  if (!answered) throw new Error('xml2js answered asynchronously');
  if (failure !== null) throw failure;
  return parsed;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

interface Contender {
  name: string;
  iterationsPerRound: number;
  parse: () => unknown;
}

function timeRound(contender: Contender): number {
  const started = performance.now();
  for (let iteration = 0; iteration < contender.iterationsPerRound; iteration++) contender.parse();
  return (performance.now() - started) / contender.iterationsPerRound;
}

/** Rounds alternate between contenders so that both see the same machine load and GC pressure. */
function measure(contenders: Contender[]): XmlParseBenchRow[] {
  for (const contender of contenders) timeRound(contender);
  const perParseMs = contenders.map((): number[] => []);
  for (let round = 0; round < ROUNDS; round++) {
    contenders.forEach((contender, position) => perParseMs[position]!.push(timeRound(contender)));
  }
  return contenders.map((contender, position) => ({
    name: contender.name,
    medianMs: median(perParseMs[position]!),
    iterationsPerRound: contender.iterationsPerRound,
  }));
}

export async function benchXmlParse(): Promise<XmlParseBenchResult> {
  const document = buildMultiGpuDocument(readFileSync(FIXTURE, 'utf8'), GPU_COUNT);
  const xml2js = loadXml2js();

  // Both must read the document before either is timed.
  const ours = parseSmiXml(document);
  if (ours.length !== GPU_COUNT || new Set(ours.map((gpu) => gpu.uuid)).size !== GPU_COUNT) {
    throw new Error(`expected ${GPU_COUNT} distinct GPUs, parsed ${ours.length}`);
  }
  parseLikeNodeNvidiaSmi(xml2js, document);

  const [oursRow, theirsRow] = measure([
    { name: 'parseSmiXml (saxes, wanted paths only)', iterationsPerRound: 100, parse: () => parseSmiXml(document) },
    {
      name: 'node-nvidia-smi (xml2js parseString)',
      iterationsPerRound: 20,
      parse: () => parseLikeNodeNvidiaSmi(xml2js, document),
    },
  ]) as [XmlParseBenchRow, XmlParseBenchRow];
  return {
    rows: [oursRow, theirsRow],
    ratio: theirsRow.medianMs / oursRow.medianMs,
    documentBytes: Buffer.byteLength(document),
    gpuCount: GPU_COUNT,
  };
}

function printResult(result: XmlParseBenchResult): void {
  console.log(`nvidia-smi -q -x, ${result.gpuCount} GPUs, ${(result.documentBytes / 1024).toFixed(0)} KiB, ` + `median of ${ROUNDS} rounds`);
  console.table(
    result.rows.map((row) => ({
      parser: row.name,
      'median ms/parse': Number(row.medianMs.toFixed(3)),
      'parses/round': row.iterationsPerRound,
    })),
  );
  console.log(`ours is ${result.ratio.toFixed(1)}x faster`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  benchXmlParse().then(printResult, (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
