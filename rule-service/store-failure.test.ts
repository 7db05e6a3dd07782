/**
 * Admission must never block on a broken rule store: wrong credentials, a server that stops, a
 * server that stops answering. Each time the job is kept as submitted, the health metric drops to
 * 0, and the errors are counted. Whether it waited is read from the answer's note, not a stopwatch:
 * a store that refuses is answered from its error (no time limit in the note), and a store that
 * never answers (the relay stays silent to the end) is cut off by the store's time limit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDatabaseUrl } from '../src/storage/database-url.js';
import { TcpRelay } from '../src/storage/testing/tcp-relay.js';
import { createThrowawayMysqlDatabase, type ThrowawayDatabase } from '../src/storage/testing/throwaway-mysql.js';
import type { RunningRuleService } from './service.js';
import { http, loadSeed, sample, startTestService } from '../test/rule-service-support.js';

async function admission(service: RunningRuleService): Promise<any> {
  return (await http(`${service.url}/api/v1/admission`, { body: { user: 'alice', priority: 'prod', gpus: 4, held: {} } })).json;
}

/** The note of an answer cut off by the store's time limit (150 ms in the test service). */
const TIMED_OUT = /took longer than 150 ms/;

async function metrics(service: RunningRuleService): Promise<string> {
  return (await http(`${service.url}/metrics`)).text;
}

const KEPT_AS_SUBMITTED = { result: 'retain', priority: 'prod', reasons: [], matched: [], store: 'unavailable' };

describe('rule store unreadable', () => {
  it('wrong MySQL credentials: keeps the job as submitted from the error, without waiting for the time limit, with the health metric at 0', async () => {
    const service = await startTestService({ db: 'mysql://gpuwatch_nobody:wrong-password@127.0.0.1:3306/gpuwatch_rules' });
    try {
      const json = await admission(service);
      expect(json).toMatchObject(KEPT_AS_SUBMITTED);
      expect(json.notes[0]).toMatch(/rule store unavailable \(.*Access denied.*\): the job is kept as submitted/);
      expect(json.notes[0]).not.toMatch(TIMED_OUT);
      const m = await metrics(service);
      expect(sample(m, 'gpuwatch_rule_service_store_up')).toBe(0);
      expect(sample(m, 'gpuwatch_rule_service_store_errors_total')).toBeGreaterThanOrEqual(1);
      expect(sample(m, 'gpuwatch_rule_service_decisions_total{result="retain"}')).toBe(1);
      expect((await http(`${service.url}/healthz`)).status).toBe(503);
    } finally {
      await service.close();
    }
  });

  it('nothing listening on the port: the same, from the refused connection', async () => {
    const relay = new TcpRelay('127.0.0.1', 1);
    await relay.start();
    const port = relay.port;
    await relay.stop();
    const service = await startTestService({ db: `mysql://root@127.0.0.1:${port}/gpuwatch_rules` });
    try {
      const json = await admission(service);
      expect(json).toMatchObject(KEPT_AS_SUBMITTED);
      expect(json.notes[0]).toMatch(/ECONNREFUSED/);
      expect(json.notes[0]).not.toMatch(TIMED_OUT);
      expect(sample(await metrics(service), 'gpuwatch_rule_service_store_up')).toBe(0);
    } finally {
      await service.close();
    }
  });

  describe('a MariaDB that stops while the service runs', () => {
    let db: ThrowawayDatabase;
    let relay: TcpRelay;
    let service: RunningRuleService;

    beforeAll(async () => {
      db = await createThrowawayMysqlDatabase();
      const target = parseDatabaseUrl(db.url);
      if (target.dialect !== 'mysql') throw new Error('expected a MySQL URL');
      relay = new TcpRelay(target.host, target.port);
      await relay.start();
      service = await startTestService({ db: `mysql://${target.user}@127.0.0.1:${relay.port}/${target.database}` });
      await loadSeed(service);
    });

    afterAll(async () => {
      await relay?.stop();
      await service?.close();
      await db?.drop();
    });

    it('decides with the rules while the store is up', async () => {
      const json = await admission(service);
      expect(json).toMatchObject({ result: 'oppo', priority: 'oppo', reasons: ['ordinary users may only submit oppo jobs'], store: 'ok' });
    });

    it('server stopped: fails open from the closed connection, and recovers when it is back', async () => {
      await relay.stop();
      const first = await admission(service);
      expect(first).toMatchObject(KEPT_AS_SUBMITTED);
      expect(first.notes[0]).not.toMatch(TIMED_OUT);
      const again = await admission(service);
      expect(again.store).toBe('unavailable');
      expect(again.notes[0]).not.toMatch(TIMED_OUT);
      const m = await metrics(service);
      expect(sample(m, 'gpuwatch_rule_service_store_up')).toBe(0);
      expect(sample(m, 'gpuwatch_rule_service_store_errors_total')).toBeGreaterThanOrEqual(1);

      await relay.start();
      let up = 0;
      for (let i = 0; i < 50 && up !== 1; i++) {
        await new Promise((r) => setTimeout(r, 100));
        up = sample(await metrics(service), 'gpuwatch_rule_service_store_up') ?? 0;
      }
      expect(up).toBe(1);
      expect(await admission(service)).toMatchObject({ result: 'oppo', store: 'ok' });
    });

    it('server silent (accepts, never answers): the read is cut off by the time limit and the job is kept', async () => {
      // The relay stays silent until the end: the answer below comes while the store is still hung.
      relay.goSilent();
      const json = await admission(service);
      expect(json).toMatchObject(KEPT_AS_SUBMITTED);
      expect(json.notes[0]).toMatch(TIMED_OUT);
      expect(sample(await metrics(service), 'gpuwatch_rule_service_store_up')).toBe(0);
    });
  });
});
