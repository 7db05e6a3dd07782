/**
 * Reads, per GPU process, what attribution needs from /proc: cgroup, OpenPAI environment and
 * start time. Results are cached by (pid, start ticks): a reused pid has another start time,
 * so it never inherits an exited process's job.
 */

import { BoundedCache } from './bounded-cache.js';
import { parseCgroupFile } from './cgroup.js';
import { openPaiIdentity, readEnviron } from './environ.js';
import { isContained, type ProcessFacts } from './identity.js';
import { readBootTimeSeconds, readCgroupText, readStartTimeTicks } from './proc-files.js';
import { startTimeSeconds } from './proc-stat.js';

export interface ProcessFactsReaderOptions {
  procRoot: string;
  now: () => number;
  maxEntries?: number;
  /** Facts are read again after this long, in case a process moved cgroup. */
  maxAgeMs?: number;
}

export class ProcessFactsReader {
  private readonly procRoot: string;
  private readonly cache: BoundedCache<string, ProcessFacts>;
  private bootTime: number | undefined;

  constructor(opts: ProcessFactsReaderOptions) {
    this.procRoot = opts.procRoot;
    this.cache = new BoundedCache(opts.maxEntries ?? 4096, opts.maxAgeMs ?? 10 * 60_000, opts.now);
  }

  /** Facts for the pids still readable; a pid that exited, or cannot be read, is absent. */
  async read(pids: Iterable<number>): Promise<Map<number, ProcessFacts>> {
    // Read once and kept: the kernel recomputes btime from the wall clock, so it can jitter.
    this.bootTime ??= await readBootTimeSeconds(this.procRoot);
    const unique = [...new Set(pids)];
    const read = await Promise.all(unique.map((pid) => this.readOne(pid)));
    const facts = new Map<number, ProcessFacts>();
    // Cached in the order asked, not the order the reads finished: eviction stays predictable.
    unique.forEach((pid, i) => {
      const r = read[i];
      if (r === undefined) return;
      facts.set(pid, r.facts);
      if (r.fresh) this.cache.set(r.key, r.facts);
    });
    return facts;
  }

  private async readOne(pid: number): Promise<{ key: string; facts: ProcessFacts; fresh: boolean } | undefined> {
    const ticks = await readStartTimeTicks(this.procRoot, pid);
    if (ticks === undefined) return undefined;
    const key = `${pid}:${ticks}`;
    const cached = this.cache.get(key);
    if (cached !== undefined) return { key, facts: cached, fresh: false };

    const cgroupText = await readCgroupText(this.procRoot, pid);
    if (cgroupText === undefined) return undefined;
    const cgroup = parseCgroupFile(cgroupText);
    // A host process is external whatever its environment says.
    const env = isContained(cgroup) ? await readEnviron(this.procRoot, pid) : undefined;
    // The pid may have exited and been reused while its files were read.
    if ((await readStartTimeTicks(this.procRoot, pid)) !== ticks) return undefined;

    const facts: ProcessFacts = { cgroup };
    const openPai = env === undefined ? undefined : openPaiIdentity(env);
    if (openPai !== undefined) facts.openPai = openPai;
    if (this.bootTime !== undefined) facts.startTimeSeconds = startTimeSeconds(this.bootTime, ticks);
    return { key, facts, fresh: true };
  }
}
