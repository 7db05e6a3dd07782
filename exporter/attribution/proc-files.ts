/** Reads of /proc files that a process's exit can make fail at any moment: none of them throws. */

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseBootTimeSeconds, parseStartTimeTicks } from './proc-stat.js';

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Start ticks of a pid, or undefined when it exited or cannot be read. Never throws. */
export async function readStartTimeTicks(procRoot: string, pid: number): Promise<number | undefined> {
  const stat = await readText(join(procRoot, String(pid), 'stat'));
  return stat === undefined ? undefined : parseStartTimeTicks(stat);
}

/** Boot time from <procRoot>/stat, or undefined when unreadable. Never throws. */
export async function readBootTimeSeconds(procRoot: string): Promise<number | undefined> {
  const stat = await readText(join(procRoot, 'stat'));
  return stat === undefined ? undefined : parseBootTimeSeconds(stat);
}

/** The text of /proc/<pid>/cgroup, or undefined when it cannot be read. Never throws. */
export async function readCgroupText(procRoot: string, pid: number): Promise<string | undefined> {
  return readText(join(procRoot, String(pid), 'cgroup'));
}
