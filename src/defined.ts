/** Dropping undefined members, so that an absent field is absent rather than present-undefined. */

/** Copy of `value` without its undefined members. */
export function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, member]) => member !== undefined)) as T;
}

/** Copy of `value` without its undefined members, or undefined when nothing is left. */
export function compact<T extends object>(value: T): T | undefined {
  const present = withoutUndefined(value);
  return Object.keys(present).length > 0 ? present : undefined;
}
