/**
 * The keys a zod schema accepts at a path of the parsed document, and the nearest one to a
 * mistyped key: what turns "unknown key `treshold`" into "did you mean `threshold`?".
 */
import { closest, distance } from 'fastest-levenshtein';
import { z } from 'zod';

/** The object keys the schema allows at `path` (array indices and record keys step through). */
export function knownKeysAt(schema: z.ZodTypeAny, path: readonly (string | number)[]): string[] {
  const keys = new Set<string>();
  for (const object of objectsAt(schema, path)) for (const key of Object.keys(object.shape as object)) keys.add(key);
  return [...keys];
}

/** The known key nearest to `key`, when it is close enough to be a typo (at most a third of its letters differ, and at least one). */
export function nearestKey(key: string, known: readonly string[]): string | undefined {
  if (known.length === 0) return undefined;
  const candidate = closest(key, [...known]);
  const allowed = Math.max(1, Math.floor(Math.max(key.length, candidate.length) / 3));
  return distance(key.toLowerCase(), candidate.toLowerCase()) <= allowed ? candidate : undefined;
}

function objectsAt(schema: z.ZodTypeAny, path: readonly (string | number)[]): z.AnyZodObject[] {
  const found: z.AnyZodObject[] = [];
  for (const s of unwrap(schema)) {
    if (path.length === 0) {
      if (s instanceof z.ZodObject) found.push(s);
      continue;
    }
    const [head, ...rest] = path;
    const child = childOf(s, head as string | number);
    if (child) found.push(...objectsAt(child, rest));
  }
  return found;
}

function childOf(s: z.ZodTypeAny, step: string | number): z.ZodTypeAny | undefined {
  if (s instanceof z.ZodObject) return (s.shape as Record<string, z.ZodTypeAny>)[String(step)];
  if (s instanceof z.ZodArray) return s.element as z.ZodTypeAny;
  if (s instanceof z.ZodRecord) return s.valueSchema as z.ZodTypeAny;
  return undefined;
}

/** The schemas a value is checked against, through defaults, optionals, effects and unions. */
function unwrap(s: z.ZodTypeAny): z.ZodTypeAny[] {
  if (s instanceof z.ZodDefault || s instanceof z.ZodOptional || s instanceof z.ZodNullable || s instanceof z.ZodCatch) {
    return unwrap(s._def.innerType as z.ZodTypeAny);
  }
  if (s instanceof z.ZodEffects) return unwrap(s.innerType() as z.ZodTypeAny);
  if (s instanceof z.ZodPipeline) return unwrap(s._def.in as z.ZodTypeAny);
  if (s instanceof z.ZodLazy) return unwrap(s.schema as z.ZodTypeAny);
  if (s instanceof z.ZodUnion || s instanceof z.ZodDiscriminatedUnion) return (s.options as z.ZodTypeAny[]).flatMap(unwrap);
  if (s instanceof z.ZodIntersection) return [...unwrap(s._def.left as z.ZodTypeAny), ...unwrap(s._def.right as z.ZodTypeAny)];
  return [s];
}
