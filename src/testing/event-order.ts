/**
 * Asserting what happened before what, instead of how many milliseconds it took: timers fire in
 * the order they fall due, and a promise that settles without waiting settles before the next
 * setImmediate, however loaded the machine.
 */

/** Runs `work` with a timer due `ms` from now, and tells whether that timer fired before the work settled. */
export async function withTimerDue<T>(ms: number, work: () => Promise<T>): Promise<{ result: T; fired: boolean }> {
  let fired = false;
  const timer = setTimeout(() => (fired = true), ms);
  try {
    return { result: await work(), fired };
  } finally {
    clearTimeout(timer);
  }
}

/** Whether `promise` settles before a setImmediate queued now runs: that is, without waiting for any I/O or timer. */
export async function settlesAtOnce(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return settled;
}
