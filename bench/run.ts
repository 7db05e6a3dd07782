/**
 * `npm run bench`: every benchmark, one after the other, each printing medians (and ratios against
 * its named baseline measured in the same run). Figures depend on the machine: compare within a run.
 */
import { benchAdmission, printAdmission } from './admission.js';
import { benchPatterns, printPatterns } from './patterns.js';
import { benchRightsize, printRightsize } from './rightsize.js';
import { benchRouter, printRouter } from './router.js';
import { benchScale, printScale } from './scale.js';
import { benchScrape } from './scrape.js';
import { benchXmlParse } from './xml-parse.js';

const fmt = (n: number, digits = 2) => n.toFixed(digits);

async function main(): Promise<void> {
  console.log('# gpuwatch benchmarks');
  console.log(`node ${process.version}, ${process.platform}/${process.arch}\n`);

  const xml = await benchXmlParse();
  console.log('## nvidia-smi -q -x parse, 8-GPU document (median per parse)');
  console.table(xml.rows);
  console.log(`ratio node-nvidia-smi / gpuwatch: ${fmt(xml.ratio, 1)}×\n`);

  const scrape = await benchScrape();
  console.log(`## /metrics, ${scrape.clients} concurrent scrapers, replay of 8 GPUs + 100 processes (gzip)`);
  console.log(`body ${scrape.bodyBytes} bytes, ${scrape.gzipBytes} gzipped`);
  for (const [name, r] of [
    ['paced (each every 100 ms)', scrape.paced],
    ['saturated (back to back)', scrape.saturated],
  ] as const) {
    console.log(`${name}: ${r.requests} scrapes, p50 ${fmt(r.p50Ms)} ms, p99 ${fmt(r.p99Ms)} ms, max ${fmt(r.maxMs)} ms, ${fmt(r.perSecond, 0)} scrapes/s`);
  }
  console.log(`exporter RSS: ${fmt(scrape.rssIdleMb, 1)} MB idle, ${fmt(scrape.rssMb, 1)} MB after the load\n`);

  console.log('## admission decisions, 1,000 rules');
  printAdmission(await benchAdmission());

  console.log('\n## rule patterns on the longest adversarial names (median and worst per match)');
  printPatterns(benchPatterns());

  console.log('\n## alert router: webhook intake and timers (SQLite)');
  printRouter(await benchRouter());

  console.log('\n## gpuwatch rightsize: 1,000 recurring jobs × 10 runs in a real Prometheus (median of 5)');
  printRightsize(await benchRightsize());

  // Last: one real Prometheus at 10,000 GPUs for about eight minutes (five of them waiting for live
  // samples), then VictoriaMetrics and vmalert at 100,000 GPUs (bench/scale.ts) for about twenty.
  console.log('');
  printScale(await benchScale());
}

await main();
