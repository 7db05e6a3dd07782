/** Bounding how long a call may take, so a hung database, process or thread never blocks a caller. */

export class TimeoutError extends Error {
  constructor(what: string, ms: number) {
    super(`${what} took longer than ${ms} ms`);
    this.name = 'TimeoutError';
  }
}

/** Resolves or rejects like `work`, or rejects with TimeoutError after `ms`; `work` itself is not cancelled. */
export function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(what, ms)), ms);
  });
  // A late rejection of abandoned work must not surface as an unhandled rejection.
  work.catch(() => undefined);
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** Whether `work` settles (resolves or rejects) within `ms`; `work` itself is not cancelled. */
export function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  return withTimeout(work, ms, 'waiting').then(
    () => true,
    (err: unknown) => !(err instanceof TimeoutError),
  );
}
