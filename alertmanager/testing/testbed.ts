/**
 * The usual set-up of a router test file: one real SMTP sink for the file, emptied (and accepting
 * again) before each test, a fresh manual clock per test, and every router started through
 * `start` closed after its test. Call it at the top of the test file; it registers the hooks.
 */
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { SmtpSink } from '../../stack/mail-catcher.js';
import { ManualClock } from '../clock.js';
import type { RunningRouter } from '../service.js';
import { startTestRouter, testOptions } from './harness.js';

export interface RouterTestbed {
  readonly smtp: SmtpSink;
  /** This test's clock, starting at the time given to `useRouterTestbed`. */
  readonly clock: ManualClock;
  /** A router that mails to the sink and runs on this test's clock; closed after the test. */
  start(config?: Record<string, unknown>): Promise<RunningRouter>;
}

export function useRouterTestbed(startsAtMs: number): RouterTestbed {
  let smtp: SmtpSink | undefined;
  let clock: ManualClock | undefined;
  const routers: RunningRouter[] = [];
  const ready = <T>(what: string, value: T | undefined): T => {
    if (value === undefined) throw new Error(`the router testbed's ${what} is used outside a test`);
    return value;
  };
  beforeAll(async () => {
    smtp = await SmtpSink.start();
  });
  afterAll(async () => {
    await smtp?.stop();
  });
  beforeEach(() => {
    const sink = ready('SMTP sink', smtp);
    sink.mails.length = 0;
    sink.rejectWith = undefined;
    clock = new ManualClock(startsAtMs);
  });
  afterEach(async () => {
    await Promise.all(routers.splice(0).map((r) => r.close()));
  });
  return {
    get smtp() {
      return ready('SMTP sink', smtp);
    },
    get clock() {
      return ready('clock', clock);
    },
    async start(config = {}) {
      const running = await startTestRouter(await testOptions(config, ready('SMTP sink', smtp).port), ready('clock', clock));
      routers.push(running);
      return running;
    },
  };
}
