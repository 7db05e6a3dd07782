/**
 * The router's HTTP face: the Alertmanager webhook, the incident API, one-click acknowledge links,
 * the on-call board, /metrics and /healthz.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from '../../src/log.js';
import { parseWebhook, WEBHOOK_BODY_LIMIT } from '../intake/webhook-schema.js';
import type { IncidentOutcome } from '../incident/incidents.js';
import type { IncidentFilter, Router } from '../router.js';
import { requireToken } from './auth.js';
import { Pages } from './pages.js';

const FILTERS: readonly IncidentFilter[] = ['active', 'open', 'acknowledged', 'resolved', 'all'];

export function routerApp(router: Router, log: Logger): express.Express {
  const { options } = router.ctx;
  const app = express();
  app.disable('x-powered-by');
  const json = express.json({ limit: '32mb' });
  const writeGuard = requireToken(options.apiToken, true);
  const webhookGuard = requireToken(options.webhookToken, false);
  const pages = new Pages(options.workingHours.timeZone);

  app.post('/api/v1/alertmanager', webhookGuard, express.json({ limit: WEBHOOK_BODY_LIMIT }), async (req, res) => {
    const parsed = parseWebhook(req.body);
    if (!parsed.ok) {
      res.status(400).json({ error: parsed.error });
      return;
    }
    try {
      res.json(await router.receive(parsed.payload));
    } catch (err) {
      // Alertmanager retries 5xx only, and intake is idempotent: a retry is always safe.
      log.warn({ err: (err as Error).message, alerts: parsed.payload.alerts.length }, 'webhook not stored; asking Alertmanager to retry');
      res.status(503).set('retry-after', '5').json({ error: 'the alerts could not be stored right now; retry' });
    }
  });

  app.get('/api/v1/oncall', (req, res) => {
    const at = typeof req.query.at === 'string' && req.query.at !== '' ? Date.parse(req.query.at) : router.ctx.clock.now();
    if (!Number.isFinite(at)) {
      res.status(400).json({ error: 'at: expected an ISO 8601 time, e.g. 2025-03-31T10:00:00+02:00' });
      return;
    }
    const count = Math.min(Math.max(Number(req.query.count ?? 8) || 8, 1), 100);
    res.json(router.onCall(at, count));
  });

  app.get('/api/v1/incidents', async (req, res) => {
    const status = (typeof req.query.status === 'string' ? req.query.status : 'active') as IncidentFilter;
    if (!FILTERS.includes(status)) {
      res.status(400).json({ error: `status: one of ${FILTERS.join(', ')}` });
      return;
    }
    const limit = Math.min(Math.max(Number(req.query.limit ?? 200) || 200, 1), 1_000);
    res.json({ incidents: await router.incidents(status, limit) });
  });

  app.get('/api/v1/incidents/:id', async (req, res) => {
    const detail = await router.incident(Number(req.params.id));
    if (!detail) res.status(404).json({ error: `no incident ${req.params.id}` });
    else res.json(detail);
  });

  const write = (act: (id: number, actor: string, body: Record<string, unknown>) => Promise<IncidentOutcome>) => async (req: Request, res: Response) => {
    const id = Number(req.params.id);
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (!Number.isInteger(id) || id <= 0) {
      res.status(400).json({ error: 'id: expected an incident number' });
      return;
    }
    if (body.by !== undefined && (typeof body.by !== 'string' || body.by.length > 255)) {
      res.status(400).json({ error: 'by: expected a name of at most 255 characters' });
      return;
    }
    const actor = typeof body.by === 'string' && body.by.trim() !== '' ? body.by.trim() : 'api';
    sendOutcome(res, await act(id, actor, body));
  };
  app.post('/api/v1/incidents/:id/ack', writeGuard, json, write((id, actor) => router.acknowledge(id, actor, 'the API')));
  const needsMessage = (req: Request, res: Response, next: NextFunction) => {
    const message = (req.body as { message?: unknown } | undefined)?.message;
    if (typeof message === 'string' && message.trim() !== '') next();
    else res.status(400).json({ error: 'message: an update needs a message' });
  };
  app.post('/api/v1/incidents/:id/update', writeGuard, json, needsMessage, write((id, actor, body) => router.update(id, actor, String(body.message).trim().slice(0, 10_000))));
  app.post('/api/v1/incidents/:id/resolve', writeGuard, json, write((id, actor, body) => router.resolve(id, actor, typeof body.note === 'string' ? body.note.slice(0, 10_000) : 'resolved by hand')));

  app.get('/api/v1/audit', writeGuard, async (req, res) => {
    const limit = Math.min(Math.max(Number(req.query.limit ?? 100) || 100, 1), 1_000);
    const subject = typeof req.query.subject === 'string' ? req.query.subject : undefined;
    const event = typeof req.query.event === 'string' ? req.query.event : undefined;
    res.json({ entries: await router.audit({ subject, event, limit }) });
  });

  app.get('/ack/:token', async (req, res) => {
    const outcome = await router.acknowledgeByToken(String(req.params.token));
    const page = (status: number, heading: string, message: string, incidentId?: number) => res.status(status).type('html').send(pages.render('ack-result', heading, { heading, message, incidentId }));
    if (!outcome.ok) page(outcome.status, 'Not acknowledged', outcome.error);
    else if (outcome.changed) page(200, `Incident #${outcome.incident.id} acknowledged`, `${outcome.incident.title}: acknowledged. Post updates on the board.`, outcome.incident.id);
    else page(200, `Incident #${outcome.incident.id} was already acknowledged`, `Acknowledged by ${outcome.incident.acknowledgedBy ?? 'someone'}.`, outcome.incident.id);
  });

  app.get('/metrics', async (_req, res) => {
    res.type(router.metrics.contentType).send(await router.metrics.exposition());
  });

  app.get('/healthz', async (_req, res) => {
    try {
      await router.ctx.db.selectFrom('router_settings').select('name').limit(1).execute();
      res.json({ status: 'ok' });
    } catch (err) {
      res.status(503).json({ status: 'database unreachable', error: (err as Error).message });
    }
  });

  app.get('/', async (_req, res) => {
    const now = router.ctx.clock.now();
    const onCall = router.ctx.rotation.segments(now, now + 400 * 86_400_000, 4);
    const [current, ...next] = onCall;
    const incidents = await router.incidents('active');
    const resolved = await router.incidents('resolved', 10);
    res.type('html').send(pages.render('board', 'On call', { now: current ?? { dris: [], end: now, source: 'rotation' }, next, incidents, resolved }));
  });

  app.get('/incidents/:id', async (req, res) => {
    const detail = await router.incident(Number(req.params.id));
    if (!detail) {
      res.status(404).type('html').send(pages.render('ack-result', 'Not found', { heading: 'Not found', message: `There is no incident ${req.params.id}.` }));
      return;
    }
    res.type('html').send(pages.render('incident', `#${detail.incident.id} ${detail.incident.title}`, detail as unknown as Record<string, unknown>));
  });

  app.use((_req, res) => {
    res.status(404).json({ error: 'not found' });
  });
  app.use((err: Error & { type?: string; status?: number }, _req: Request, res: Response, _next: NextFunction) => {
    if (err.type === 'entity.parse.failed') {
      res.status(400).json({ error: `(body): not valid JSON: ${err.message}` });
      return;
    }
    if (err.type === 'entity.too.large') {
      res.status(413).json({ error: 'the body is too large' });
      return;
    }
    log.error({ err: err.message }, 'request failed');
    res.status(503).set('retry-after', '5').json({ error: 'temporarily unavailable' });
  });
  return app;
}

function sendOutcome(res: Response, outcome: IncidentOutcome): void {
  if (outcome.ok) res.json({ changed: outcome.changed, incident: outcome.incident });
  else res.status(outcome.status).json({ error: outcome.error });
}
