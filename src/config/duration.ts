/** Prometheus-style durations ("30s", "5m", "1h30m", "2d"), the form used everywhere in gpuwatch.yaml. */

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
  y: 31_536_000_000,
};

const DURATION = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;
const ORDER = ['y', 'w', 'd', 'h', 'm', 's', 'ms'] as const;

/** Milliseconds in a Prometheus duration, or undefined when the text is not one. */
export function parseDuration(text: string): number | undefined {
  if (text === '' || text === '0') return text === '0' ? 0 : undefined;
  const match = DURATION.exec(text);
  if (!match) return undefined;
  let total = 0;
  ORDER.forEach((unit, i) => {
    const part = match[i + 1];
    if (part !== undefined) total += Number(part) * (UNIT_MS[unit] ?? 0);
  });
  return total;
}

/** A duration in milliseconds as the shortest Prometheus duration text ("90000" → "1m30s"). */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  let rest = ms;
  let out = '';
  for (const unit of ORDER) {
    const size = UNIT_MS[unit] ?? 1;
    const count = Math.floor(rest / size);
    if (count > 0) {
      out += `${count}${unit}`;
      rest -= count * size;
    }
  }
  return out;
}
