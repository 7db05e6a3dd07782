/**
 * Severities 0–3 (DESIGN §7): 0 a production cluster is down, 1 an important feature is down, 2 some
 * jobs or users keep failing, 3 random low-probability failures. A lower number is more severe.
 */

/** Common words for severities some rules use instead of numbers. */
const NAMED: Record<string, number> = { critical: 1, page: 1, error: 2, warning: 2, info: 3, none: 3 };

/** The alert's severity label as 0–3; anything else gets the configured default. */
export function parseSeverity(label: string | undefined, fallback: number): number {
  const text = (label ?? '').trim().toLowerCase();
  if (/^[0-3]$/.test(text)) return Number(text);
  const named = /^(?:sev|s|p)?([0-3])$/.exec(text);
  if (named) return Number(named[1]);
  return NAMED[text] ?? fallback;
}
