/**
 * The router's HTTP face: the Alertmanager webhook, the incident API, the on-call board and its
 * acknowledge links (board-routes.ts), /metrics and /healthz. Every answer carries the security
 * headers (security.ts).
 */
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { Logger } from '../../src/log.js';
import { parseWebhook, WEBHOOK_BODY_LIMIT } from '../intake/webhook-schema.js';
import type { IncidentOutcome } from '../incident/incidents.js';
import type { IncidentFilter, Router } from '../router.js';
import { requireBearer } from '../../src/http/bearer.js';
import { callerIn, requireCaller } from './auth.js';
import { addActionRoutes } from './action-routes.js';
import { boardAuth, boardRoutes } from './board-routes.js';
import { actorOf } from './identity.js';
import { securityHeaders } from './security.js';

const FILTERS: readonly IncidentFilter[] = ['active', 'open', 'acknowledged', 'resolved', 'all'];

export function routerApp(router: Router, log: Logger): express.Express {
  const { options } = router.ctx;
  const app = express();
  app.disable('x-powered-by');
  app.use(securityHeaders((options.publicUrl ?? '').startsWith('https://')));
  const auth = boardAuth(router);
  const writeGuard = requireCaller(auth.identities, auth.sessions, () => router.ctx.clock.now());
  addWebhookRoute(app, router, log);
  addReadRoutes(app, router);
  addWriteRoutes(app, router, writeGuard);
  addAuditRoute(app, router, writeGuard);
  addActionRoutes(app, router, writeGuard);
  addOperationsRoutes(app, router);
  app.use(boardRoutes(router, auth));
  app.use((_req, res) => {
    res.status(404).json({ error: 'not found' });
  });
  app.use(errorHandler(log));
  return app;
}

/** POST /api/v1/alertmanager: Alertmanager's webhook, parsed and handed to intake. */
function addWebhookRoute(app: express.Express, router: Router, log: Logger): void {
  // Without a webhook token configured, Alertmanager's posts are let through.
  const webhookGuard = requireBearer(router.ctx.options.webhookToken, 'let-through');
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
}

/** GET /api/v1/oncall, /api/v1/incidents and /api/v1/incidents/:id: open to anyone who reaches the router. */
function addReadRoutes(app: express.Express, router: Router): void {
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
}

type IncidentAct = (id: number, actor: string, body: Record<string, unknown>, via: string) => Promise<IncidentOutcome>;

/** POST /api/v1/incidents/:id/{ack,update,resolve}: a known caller only. */
function addWriteRoutes(app: express.Express, router: Router, writeGuard: RequestHandler): void {
  const json = express.json({ limit: '32mb' });
  app.post(
    '/api/v1/incidents/:id/ack',
    writeGuard,
    json,
    incidentWrite((id, actor, _body, via) => router.acknowledge(id, actor, via)),
  );
  app.post(
    '/api/v1/incidents/:id/update',
    writeGuard,
    json,
    needsMessage,
    incidentWrite((id, actor, body) => router.update(id, actor, String(body.message).trim().slice(0, 10_000))),
  );
  app.post(
    '/api/v1/incidents/:id/resolve',
    writeGuard,
    json,
    incidentWrite((id, actor, body) => router.resolve(id, actor, typeof body.note === 'string' ? body.note.slice(0, 10_000) : 'resolved by hand')),
  );
}

/** One incident change: the id and `by` checked, the caller recorded as the actor. */
function incidentWrite(act: IncidentAct) {
  return async (req: Request, res: Response) => {
    const id = Number(req.params.id);
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (!Number.isInteger(id) || id <= 0) {
      res.status(400).json({ error: 'id: expected an incident number' });
      return;
    }
    if (body.by !== undefined && (typeof body.by !== 'string' || body.by.length > 200)) {
      res.status(400).json({ error: 'by: expected a name of at most 200 characters' });
      return;
    }
    // The token's (or login's) identity is recorded; `by` is only a claim, kept with the shared token.
    const caller = callerIn(res);
    const actor = actorOf(caller.identity, body.by as string | undefined);
    sendOutcome(res, await act(id, actor, body, caller.cookie === undefined ? 'the API' : 'the board'));
  };
}

function needsMessage(req: Request, res: Response, next: NextFunction): void {
  const message = (req.body as { message?: unknown } | undefined)?.message;
  if (typeof message === 'string' && message.trim() !== '') next();
  else res.status(400).json({ error: 'message: an update needs a message' });
}

/** GET /api/v1/audit: a known caller only. */
function addAuditRoute(app: express.Express, router: Router, writeGuard: RequestHandler): void {
  app.get('/api/v1/audit', writeGuard, async (req, res) => {
    const limit = Math.min(Math.max(Number(req.query.limit ?? 100) || 100, 1), 1_000);
    const subject = typeof req.query.subject === 'string' ? req.query.subject : undefined;
    const event = typeof req.query.event === 'string' ? req.query.event : undefined;
    res.json({ entries: await router.audit({ subject, event, limit }) });
  });
}

/** GET /metrics and /healthz. */
function addOperationsRoutes(app: express.Express, router: Router): void {
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
}

/** Bad JSON is 400, a body over the limit 413, anything else 503 (logged), so clients retry. */
function errorHandler(log: Logger) {
  return (err: Error & { type?: string; status?: number }, _req: Request, res: Response, _next: NextFunction) => {
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
  };
}

function sendOutcome(res: Response, outcome: IncidentOutcome): void {
  if (outcome.ok) res.json({ changed: outcome.changed, incident: outcome.incident });
  else res.status(outcome.status).json({ error: outcome.error });
}
