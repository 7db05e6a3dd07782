/**
 * Getting the synthetic cluster into VictoriaMetrics through its own import endpoints, with bounded
 * memory: history as JSON lines for `/api/v1/import` (one line per series: its `values` and
 * `timestamps` arrays), the present as Prometheus text for
 * `/api/v1/import/prometheus`, both streamed as an HTTP request body in chunks of about 1 MB.
 */
import { request } from 'node:http';
import type { Series } from './synthetic-cluster.js';

const CHUNK = 1 << 20;

/** POSTs `chunks` as one streamed body, waiting for the socket to drain; resolves on a 2xx answer. */
export function postChunks(url: string, chunks: Iterable<string>): Promise<void> {
  const req = request(url, { method: 'POST', headers: { 'content-type': 'application/octet-stream' } });
  const answered = new Promise<void>((resolve, reject) => {
    req.on('error', reject);
    req.on('response', (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body = (body + c.toString()).slice(0, 2000)));
      res.on('end', () => ((res.statusCode ?? 500) < 300 ? resolve() : reject(new Error(`POST ${url}: ${res.statusCode} ${body}`))));
    });
  });
  const send = async () => {
    for (const chunk of chunks) {
      if (!req.write(chunk)) await Promise.race([new Promise((r) => req.once('drain', r)), answered]);
    }
    req.end();
  };
  return Promise.all([send(), answered]).then(() => undefined);
}

/** `a="b",c="d"` as the JSON members `"a":"b","c":"d"` (label values here hold no quotes, commas or `=`). */
const jsonLabels = (labels: string) => labels.replace(/(^|,)(\w+)=/g, '$1"$2":');

export interface Counts {
  series: number;
  samples: number;
}

/** The history of `series` from `from` to `to` (Unix seconds, inclusive) every `step` seconds, as JSON-lines chunks. */
export function* historyJsonLines(series: Iterable<Series>, from: number, to: number, step: number, counts: Counts): Generator<string> {
  const times: number[] = [];
  for (let t = from; t <= to; t += step) times.push(t);
  const timestamps = `],"timestamps":[${times.map((t) => t * 1000).join(',')}]}\n`;
  let chunk = '';
  for (const s of series) {
    let previous = NaN;
    let text = '';
    const values: string[] = [];
    for (const t of times) {
      const v = s.value(t);
      if (v !== previous) [previous, text] = [v, String(v)]; // most series are constant: convert once
      values.push(text);
    }
    chunk += `{"metric":{"__name__":"${s.name}",${jsonLabels(s.labels)}},"values":[${values.join(',')}${timestamps}`;
    counts.series++;
    counts.samples += times.length;
    if (chunk.length > CHUNK) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}

/** Every series' value at `t` (Unix seconds) in Prometheus's text format, without timestamps (the receiver stamps them). */
export function* presentText(series: Iterable<Series>, t: number): Generator<string> {
  let chunk = '';
  for (const s of series) {
    chunk += `${s.name}{${s.labels}} ${s.value(t)}\n`;
    if (chunk.length > CHUNK) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}
