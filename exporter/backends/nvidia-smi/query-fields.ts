/**
 * Which `--query-gpu` fields this nvidia-smi knows. One unknown field makes nvidia-smi refuse the
 * whole query, and field names changed over the years: drivers before 535 call the clock-event
 * reasons `clocks_throttle_reasons.*`, older ones lack fields newer ones added. The backend asks
 * `nvidia-smi --help-query-gpu` once and streams only names the driver lists.
 */

/** Names that changed, newest first: a field is asked under the first name the driver knows. */
const RENAMED_PREFIXES: ReadonlyArray<readonly [string, string]> = [['clocks_event_reasons.', 'clocks_throttle_reasons.']];

/** Every field name (aliases included) that `--help-query-gpu` lists, as `"name"` or `"name" or "alias"` lines. */
export function fieldsInHelp(helpText: string): Set<string> {
  const known = new Set<string>();
  for (const line of helpText.split('\n')) {
    if (!line.startsWith('"')) continue;
    for (const match of line.matchAll(/"([^"\s]+)"/g)) known.add(match[1]!);
  }
  return known;
}

export interface ChosenFields {
  /** The fields to ask, in the order wanted, each under a name the driver knows. */
  fields: string[];
  /** Wanted fields the driver knows under no name: their values are absent. */
  missing: string[];
}

/** `wanted` in names the driver knows (an older name where only that one is known). */
export function chooseQueryFields(wanted: readonly string[], known: ReadonlySet<string>): ChosenFields {
  const fields: string[] = [];
  const missing: string[] = [];
  for (const field of wanted) {
    const name = [field, ...olderNames(field)].find((candidate) => known.has(candidate));
    if (name === undefined) missing.push(field);
    else fields.push(name);
  }
  return { fields, missing };
}

function olderNames(field: string): string[] {
  return RENAMED_PREFIXES.filter(([newer]) => field.startsWith(newer)).map(([newer, older]) => older + field.slice(newer.length));
}
