/**
 * The collection loop. Each source (GPU backend, job attribution, host) is read on the interval
 * under its own time limit; a failing or hanging source never fails the others or the scrape: its
 * series drop, `gpuwatch_exporter_source_up{source}` goes to 0 and the error is counted by reason.
 * `/metrics` serves the text rendered after the last completed collection and never waits.
 */
import { gzipSync } from 'node:zlib';
import type { Logger } from 'pino';
import type { Attribution } from './attribution/types.js';
import { renderExposition, type NodeState, type SourceStatus } from './exposition.js';
import type { HostReading } from './host.js';
import { sanitizeSnapshot } from './sanitize.js';
import { TimeoutError, withTimeout } from '../src/storage/timeout.js';
import { SourceError, type GpuBackend, type GpuSnapshot } from './types.js';

export interface CollectorOptions {
  node: string;
  version: string;
  backend: GpuBackend;
  /** Job attribution for the GPUs just read; omitted when attribution is off. */
  attribute?: (gpus: GpuSnapshot) => Promise<Attribution>;
  host?: () => Promise<HostReading>;
  expectedGpus?: number;
  intervalMs: number;
  timeoutMs: number;
  log: Logger;
  now?: () => number;
}

/** Sources: 'gpu', 'attribution', 'host', and any a backend reports on its own (e.g. 'nvidia-smi-stream'). */
type SourceName = string;

export class Collector {
  private readonly status = new Map<SourceName, SourceStatus>();
  private readonly inFlight = new Set<SourceName>();
  private readonly now: () => number;
  private text = '';
  private body: EncodedExposition = encode('');
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private gpus: GpuSnapshot | undefined;
  private attribution: Attribution | undefined;
  private host: HostReading | undefined;
  /** Impossible readings dropped since start, by the metric they would have fed. */
  private readonly invalidValues = new Map<string, number>();

  constructor(private readonly opts: CollectorOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** The exposition of the last completed collection ('' before the first). */
  get exposition(): string {
    return this.text;
  }

  /** The same exposition encoded once per collection (plain and gzip), so a scrape only writes bytes. */
  get encoded(): EncodedExposition {
    return this.body;
  }

  /** Unix ms of the GPU source's last success. */
  get lastGpuSuccessMs(): number | undefined {
    const s = this.status.get('gpu')?.lastSuccessSeconds;
    return s === undefined ? undefined : s * 1000;
  }

  /** Healthy while the GPU source succeeded within the last three intervals. */
  healthy(): boolean {
    const last = this.lastGpuSuccessMs;
    return last !== undefined && this.now() - last <= 3 * this.opts.intervalMs;
  }

  /** Counts a failure a source reported outside a collection (e.g. a streaming child that died). */
  recordError(source: SourceName, reason: string): void {
    const status = this.status.get(source) ?? { up: false, errors: new Map<string, number>() };
    status.errors.set(reason, (status.errors.get(reason) ?? 0) + 1);
    this.status.set(source, status);
  }

  /** One full collection; concurrent calls share the collection in flight. */
  collectOnce(): Promise<void> {
    this.running ??= this.collect().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  start(): void {
    if (this.timer) return;
    const tick = () => {
      void this.collectOnce().finally(() => {
        if (this.timer) this.timer = setTimeout(tick, this.opts.intervalMs);
      });
    };
    this.timer = setTimeout(tick, 0);
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private async collect(): Promise<void> {
    const { backend, attribute, host } = this.opts;
    const [gpus, hostReading] = await Promise.all([this.read('gpu', () => backend.collect()), host ? this.read('host', host) : Promise.resolve(undefined)]);
    this.gpus = gpus && this.sanitize(gpus);
    this.host = hostReading;
    const clean = this.gpus;
    this.attribution = clean && attribute ? await this.read('attribution', () => attribute(clean)) : undefined;
    const state: NodeState = {
      node: this.opts.node,
      version: this.opts.version,
      backend: backend.name,
      sources: this.status,
      invalidValues: this.invalidValues,
      ...(this.gpus ? { gpus: this.gpus } : {}),
      ...(this.attribution ? { attribution: this.attribution } : {}),
      ...(this.host ? { host: this.host } : {}),
      ...(this.opts.expectedGpus !== undefined ? { expectedGpus: this.opts.expectedGpus } : {}),
    };
    this.text = await renderExposition(state);
    this.body = encode(this.text);
  }

  private sanitize(raw: GpuSnapshot): GpuSnapshot {
    const { snapshot, invalid } = sanitizeSnapshot(raw);
    for (const [metric, count] of invalid) this.invalidValues.set(metric, (this.invalidValues.get(metric) ?? 0) + count);
    return snapshot;
  }

  /** Reads one source under the time limit; undefined when it failed, timed out or is still stuck. */
  private async read<T>(name: SourceName, fn: () => Promise<T>): Promise<T | undefined> {
    const status = this.status.get(name) ?? { up: false, errors: new Map<string, number>() };
    this.status.set(name, status);
    if (this.inFlight.has(name)) {
      status.up = false;
      return undefined;
    }
    const started = this.now();
    this.inFlight.add(name);
    const call = fn().finally(() => this.inFlight.delete(name));
    try {
      const value = await withTimeout(call, this.opts.timeoutMs, name);
      status.up = true;
      status.durationSeconds = (this.now() - started) / 1000;
      status.lastSuccessSeconds = this.now() / 1000;
      return value;
    } catch (err) {
      const reason = err instanceof SourceError ? err.reason : err instanceof TimeoutError ? 'timeout' : 'io';
      status.up = false;
      status.durationSeconds = (this.now() - started) / 1000;
      this.recordError(name, reason);
      this.opts.log.warn({ source: name, reason, err: (err as Error).message }, 'collection failed');
      return undefined;
    }
  }
}

export interface EncodedExposition {
  plain: Buffer;
  gzip: Buffer;
}

function encode(text: string): EncodedExposition {
  const plain = Buffer.from(text);
  return { plain, gzip: gzipSync(plain, { level: 6 }) };
}
