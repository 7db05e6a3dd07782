/**
 * The nvidia-smi GPU backend, for hosts where NVML cannot be loaded directly.
 *
 * Spawning nvidia-smi per scrape costs 30-150 ms, so the fast fields come from one long-lived
 * `--query-gpu … -lms N` child (almost free per sample), and the fields that only `-q -x` has
 * (processes, PCIe replays) are refreshed in the background at most every `xmlIntervalMs`, as are
 * the NVLink counters of `nvidia-smi nvlink` (which `-q -x` lacks). `collect()` merges them by UUID
 * and never waits longer than `timeoutMs`.
 */
import { settlesWithin } from '../../../src/storage/timeout.js';
import { SourceError, type GpuBackend, type GpuReading, type GpuSnapshot, type SkippedGpus } from '../../types.js';
import { QUERY_FIELDS } from './csv.js';
import { mergeReadings } from './merge.js';
import { NvLinkRefresh } from './nvlink-refresh.js';
import { chooseQueryFields, fieldsInHelp } from './query-fields.js';
import { runOnce, StreamingQuery, type ErrorListener } from './runner.js';
import { parseSmiXmlInSteps } from './xml.js';

export { QUERY_FIELDS, parseQueryGpuCsv, parseQueryGpuLine } from './csv.js';
export { runOnce, StreamingQuery } from './runner.js';
export { nvLinkReadings, parseNvLinkLines } from './nvlink.js';
export { parseSmiXml, parseSmiXmlDocument, parseSmiXmlInSteps } from './xml.js';

export interface NvidiaSmiBackendOptions {
  /** Path or name of nvidia-smi. Default 'nvidia-smi' (looked up on PATH). */
  binary?: string;
  /** Sampling interval of the streaming query. Default 1 s. */
  streamIntervalMs?: number;
  /** Least time between two `-q -x` reads, and between two reads of the NVLink counters. Default 30 s. */
  xmlIntervalMs?: number;
  /** Longest a `-q -x` or `nvlink` run, and a `collect()`, may take. Default 10 s. */
  timeoutMs?: number;
  /** Called for every failure (reason is a short label fit for a metric). */
  onError?: ErrorListener;
  /** Fields of the streaming query. Default QUERY_FIELDS. */
  queryFields?: readonly string[];
  /** Passed to the streaming query; defaults there. */
  stallTimeoutMs?: number;
  /** Passed to the streaming query; defaults there. */
  initialBackoffMs?: number;
}

interface XmlSnapshot {
  gpus: GpuReading[];
  skippedGpus: SkippedGpus;
  at: number;
}

/** `-q -x` and NVLink data older than this many intervals is dropped rather than reported stale. */
const XML_MAX_AGE_INTERVALS = 3;

export class NvidiaSmiBackend implements GpuBackend {
  readonly name = 'nvidia-smi' as const;
  private readonly binary: string;
  private readonly streamIntervalMs: number;
  private readonly xmlIntervalMs: number;
  private readonly timeoutMs: number;
  private readonly onError: ErrorListener | undefined;
  private readonly streamOptions: NvidiaSmiBackendOptions;
  private stream: StreamingQuery | undefined;
  private streamOpening: Promise<StreamingQuery> | undefined;
  private readonly cancel = new AbortController();
  private xml: XmlSnapshot | undefined;
  private xmlError: SourceError | undefined;
  private xmlRefresh: Promise<void> | undefined;
  private xmlStartedAt = Number.NEGATIVE_INFINITY;
  private readonly nvlinks: NvLinkRefresh;
  private closed = false;

  constructor(options: NvidiaSmiBackendOptions = {}) {
    this.binary = options.binary ?? 'nvidia-smi';
    this.streamIntervalMs = options.streamIntervalMs ?? 1_000;
    this.xmlIntervalMs = options.xmlIntervalMs ?? 30_000;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.onError = options.onError;
    this.streamOptions = options;
    this.nvlinks = new NvLinkRefresh({ binary: this.binary, timeoutMs: this.timeoutMs, signal: this.cancel.signal, onError: this.onError });
  }

  /** Restarts of the streaming child so far. */
  get streamRestarts(): number {
    return this.stream?.restarts ?? 0;
  }

  /** The fields the streaming query asks, once the driver's field names are known. */
  get streamFields(): readonly string[] | undefined {
    return this.stream?.fields;
  }

  async collect(): Promise<GpuSnapshot> {
    if (this.closed) throw new SourceError('unavailable', 'the nvidia-smi backend is closed');
    const stream = await (this.streamOpening ??= this.openStream());
    if (this.closed) throw new SourceError('unavailable', 'the nvidia-smi backend is closed');
    stream.start();
    const streamed = stream.latest();
    if (streamed === undefined) {
      // Nothing streamed (starting, or the stream is failing): `-q -x` alone, kept as fresh as
      // the stream would be.
      this.refreshXmlIfOlderThan(this.streamIntervalMs);
      this.nvlinks.refreshIfOlderThan(this.xmlIntervalMs);
      await this.waitForSlowReads();
      const xml = this.currentXml();
      if (xml !== undefined) return { gpus: this.withNvLinks(xml.gpus), ...skipped(xml) };
      throw this.xmlError ?? new SourceError('timeout', `no reading from ${this.binary} within ${this.timeoutMs} ms`);
    }
    this.refreshXmlIfOlderThan(this.xmlIntervalMs);
    this.nvlinks.refreshIfOlderThan(this.xmlIntervalMs);
    // Only the first collection waits for the slow fields; later ones use the last reads.
    if (this.xml === undefined) await this.waitForSlowReads();
    const xml = this.currentXml();
    return { gpus: this.withNvLinks(mergeReadings(streamed.gpus, xml?.gpus ?? [])), ...skipped(xml) };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.cancel.abort();
    await this.streamOpening?.catch(() => undefined);
    await Promise.all([this.stream?.stop(), this.xmlRefresh, this.nvlinks.pending]);
  }

  /**
   * Asks `--help-query-gpu` once which field names this driver knows, and streams the wanted
   * fields under those names (a field it does not know at all is left out: nvidia-smi would refuse
   * the whole query for it). When the help cannot be read, the fields are asked as they are.
   */
  private async openStream(): Promise<StreamingQuery> {
    const wanted = this.streamOptions.queryFields ?? QUERY_FIELDS;
    let fields = wanted;
    try {
      const help = await runOnce(this.binary, ['--help-query-gpu'], { timeoutMs: this.timeoutMs, signal: this.cancel.signal });
      const known = fieldsInHelp(help);
      if (known.size > 0) fields = chooseQueryFields(wanted, known).fields;
    } catch (error) {
      const failure = error instanceof SourceError ? error : new SourceError('spawn', String(error));
      if (!this.closed) this.onError?.(failure.reason, `cannot list the --query-gpu fields: ${failure.message}`);
    }
    this.stream = new StreamingQuery({
      binary: this.binary,
      fields,
      intervalMs: this.streamIntervalMs,
      stallTimeoutMs: this.streamOptions.stallTimeoutMs,
      initialBackoffMs: this.streamOptions.initialBackoffMs,
      onError: (reason, message) => this.onError?.(reason, message),
    });
    return this.stream;
  }

  private refreshXmlIfOlderThan(intervalMs: number): void {
    if (this.xmlRefresh !== undefined || Date.now() - this.xmlStartedAt < intervalMs) return;
    this.xmlStartedAt = Date.now();
    this.xmlRefresh = runOnce(this.binary, ['-q', '-x'], { timeoutMs: this.timeoutMs, signal: this.cancel.signal })
      // Parsed in steps: a long or malformed document never holds up /metrics.
      .then((text) => parseSmiXmlInSteps(text))
      .then((document) => {
        this.xml = { ...document, at: Date.now() };
        this.xmlError = undefined;
      })
      .catch((error: unknown) => {
        const failure = error instanceof SourceError ? error : new SourceError('parse', String(error));
        this.xmlError = failure;
        if (!this.closed) this.onError?.(failure.reason, failure.message);
      })
      .finally(() => {
        this.xmlRefresh = undefined;
      });
  }

  /**
   * Wait for the `-q -x` in flight, if any, but never longer than the time limit, and for the NVLink
   * read in flight no longer than half of it: a hanging `nvlink` command must leave time for the
   * GPU readings within the collection's own limit.
   */
  private async waitForSlowReads(): Promise<void> {
    await Promise.all([settledWithin(this.xmlRefresh, this.timeoutMs), settledWithin(this.nvlinks.pending, this.timeoutMs / 2)]);
  }

  /** How old slow readings may be before they are dropped rather than reported stale. */
  private get slowMaxAgeMs(): number {
    return Math.max(this.xmlIntervalMs * XML_MAX_AGE_INTERVALS, this.timeoutMs);
  }

  private currentXml(): XmlSnapshot | undefined {
    const xml = this.xml;
    return xml !== undefined && Date.now() - xml.at <= this.slowMaxAgeMs ? xml : undefined;
  }

  /** The readings with the NVLinks of each GPU, where the last NVLink read is fresh and has them. */
  private withNvLinks(gpus: GpuReading[]): GpuReading[] {
    const nvlinks = this.nvlinks.current(this.slowMaxAgeMs);
    if (nvlinks === undefined) return gpus;
    return gpus.map((gpu) => {
      const links = nvlinks.get(gpu.uuid);
      return links === undefined ? gpu : { ...gpu, nvlinks: links };
    });
  }
}

/** Resolves when `work` (which never rejects) settles or `limitMs` has passed, whichever is first. */
async function settledWithin(work: Promise<void> | undefined, limitMs: number): Promise<void> {
  if (work !== undefined) await settlesWithin(work, limitMs);
}

/** The XML's count of GPUs it left out, for the snapshot (the stream lists only GPUs with a UUID). */
function skipped(xml: XmlSnapshot | undefined): Pick<GpuSnapshot, 'skippedGpus'> {
  return xml !== undefined && Object.keys(xml.skippedGpus).length > 0 ? { skippedGpus: xml.skippedGpus } : {};
}
