/**
 * JSON with object keys sorted at every level, two-space indented, newline-terminated: the same
 * dashboard always serializes to the same bytes, whatever order its builder set the fields in.
 */
export function stableJson(value: unknown): string {
  return `${JSON.stringify(sortKeys(value), null, 2)}\n`;
}

/** The same, on one line: for embedding where size matters more than reading (ConfigMaps). */
export function stableJsonCompact(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) sorted[key] = sortKeys((value as Record<string, unknown>)[key]);
  return sorted;
}
