/**
 * The replay backend: serves recorded nvidia-smi output where there is no GPU (CI, `npm start`,
 * the end-to-end chain). Frames of a recording are played one per collection, in a loop; a scenario
 * multiplies GPUs, places jobs and injects faults over time.
 */
import { readFile } from 'node:fs/promises';
import { dirname, extname, resolve } from 'node:path';
import type { Attribution } from '../../attribution/types.js';
import { parseYamlWith } from '../../../src/config/yaml-file.js';
import { SourceError, type GpuBackend, type GpuReading, type GpuSnapshot } from '../../types.js';
import { loadRecording, type Frame } from './recording.js';
import { activeFault, applyScenario, hasExternalProcess, multiplyGpus, scenarioJobs, scenarioSchema, scenarioXids, type Scenario } from './scenario.js';

/** Pids of the processes outside any job (job processes start at 100000). */
const EXTERNAL_PID_BASE = 200_000;

export interface ReplayOptions {
  /** A recording (.xml, .csv, directory) or a scenario (.yaml/.yml). */
  path: string;
  now?: () => number;
}

export class ReplayBackend implements GpuBackend {
  readonly name = 'replay' as const;
  private next = 0;
  private readonly hangs = new Set<() => void>();

  private constructor(
    private readonly frames: Frame[],
    private readonly scenario: Scenario | undefined,
    private readonly startedAt: number,
    private readonly now: () => number,
  ) {}

  static async open(opts: ReplayOptions): Promise<ReplayBackend> {
    const now = opts.now ?? Date.now;
    if (!['.yaml', '.yml'].includes(extname(opts.path))) {
      return new ReplayBackend(await loadRecording(opts.path), undefined, now(), now);
    }
    const text = await readFile(opts.path, 'utf8').catch(() => {
      throw new SourceError('io', `replay scenario ${opts.path} does not exist`);
    });
    const scenario = parseYamlWith(text, opts.path, scenarioSchema);
    const frames = await loadRecording(resolve(dirname(opts.path), scenario.source));
    const sized = scenario.gpus === undefined ? frames : frames.map((f) => multiplyGpus(f, scenario.gpus ?? 1));
    return new ReplayBackend(sized, scenario, now(), now);
  }

  async collect(): Promise<GpuSnapshot> {
    const frame = this.frames[this.next % this.frames.length] ?? [];
    this.next++;
    if (!this.scenario) return { gpus: structuredClone(frame) };
    const elapsed = this.now() - this.startedAt;
    const fault = activeFault(this.scenario, elapsed);
    if (fault === 'hang') await new Promise<void>((release) => this.hangs.add(release));
    if (fault === 'garbage') throw new SourceError('parse', 'scenario fault: the source printed garbage');
    const gpus = applyScenario(this.scenario, frame, elapsed);
    const xid = scenarioXids(this.scenario, gpus, elapsed);
    return { gpus: this.withScenarioProcesses(this.scenario, gpus, elapsed), ...(xid.size > 0 ? { xid } : {}) };
  }

  /**
   * In a scenario the recorded processes give way to one process per (job, GPU) placed there, plus
   * one outside any job where an `external` event is in force.
   */
  private withScenarioProcesses(scenario: Scenario, gpus: GpuReading[], elapsedMs: number): GpuReading[] {
    const jobs = this.jobs();
    return gpus.map((g) => {
      const memory = g.memoryUsedBytes !== undefined ? { usedMemoryBytes: g.memoryUsedBytes } : {};
      const processes = jobs.filter((j) => j.gpu === g.index).map((j) => ({ pid: j.pid, name: 'python3', ...memory }));
      if (hasExternalProcess(scenario, g.index, elapsedMs)) processes.push({ pid: EXTERNAL_PID_BASE + g.index, name: 'stress-ng', ...memory });
      return { ...g, processes };
    });
  }

  private jobs() {
    return this.scenario ? scenarioJobs(this.scenario, this.startedAt) : [];
  }

  /** The scenario's jobs on the GPUs that are present, as job attribution would report them. */
  attribution(gpus: GpuSnapshot): Attribution {
    const byIndex = new Map(gpus.gpus.map((g) => [g.index, g]));
    const placed = this.jobs().flatMap((j) => {
      const gpu = byIndex.get(j.gpu);
      return gpu === undefined ? [] : [{ ...j, gpu }];
    });
    const byPid = new Map(placed.map((j) => [j.pid, j.identity]));
    return {
      allocations: placed.map(({ gpu, identity }) => ({ uuid: gpu.uuid, identity })),
      processes: gpus.gpus.flatMap((g) =>
        (g.processes ?? []).map((p) => {
          const identity = byPid.get(p.pid);
          return {
            pid: p.pid,
            uuid: g.uuid,
            ...(p.usedMemoryBytes !== undefined ? { usedMemoryBytes: p.usedMemoryBytes } : {}),
            ...(identity ? { identity } : {}),
          };
        }),
      ),
    };
  }

  async close(): Promise<void> {
    for (const release of this.hangs) release();
    this.hangs.clear();
  }
}
