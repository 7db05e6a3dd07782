/**
 * Process start times from /proc.
 *
 * /proc/<pid>/stat field 22 (`starttime`) counts clock ticks since boot; /proc/stat `btime` is
 * the boot time in Unix seconds. Ticks are converted at 100 per second: USER_HZ is 100 on
 * every Linux architecture the NVIDIA driver supports (x86_64, aarch64, ppc64le), and Node
 * cannot call sysconf(_SC_CLK_TCK) to check.
 */

export const CLOCK_TICKS_PER_SECOND = 100;

/**
 * Field 22 of /proc/<pid>/stat. The command name (field 2) is in parentheses and may itself
 * hold spaces and parentheses, so fields are counted from the last `)`.
 */
export function parseStartTimeTicks(statLine: string): number | undefined {
  const close = statLine.lastIndexOf(')');
  if (close < 0) return undefined;
  // After `)` come fields 3 (state), 4, …; field 22 is the 20th of them.
  const fields = statLine
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  const raw = fields[22 - 3];
  if (raw === undefined || !/^\d+$/.test(raw)) return undefined;
  return Number(raw);
}

/** The `btime` line of /proc/stat: boot time, Unix seconds. */
export function parseBootTimeSeconds(procStat: string): number | undefined {
  const match = /^btime\s+(\d+)\s*$/m.exec(procStat);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/** Unix seconds at which a process started. */
export function startTimeSeconds(bootTimeSeconds: number, startTicks: number): number {
  return bootTimeSeconds + startTicks / CLOCK_TICKS_PER_SECOND;
}
