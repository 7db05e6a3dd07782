/**
 * The rule service's HTTP face: admission, the rule table, actions, the audit trail, metrics; and,
 * in proxy mode, rest-server's API with job submissions decided on the way through.
 */
import express, { type ErrorRequestHandler, type Express, type Request, type Response } from 'express';
import type { Logger } from '../src/log.js';
import { withTimeout } from '../src/storage/timeout.js';
import { Admission } from './admission.js';
import { AdmissionInputError, admissionRequestFrom } from './admission-input.js';
import { actionRequestSchema, type Actions } from './actions.js';
import { readAudit } from './audit.js';
import { requireBearer } from '../src/http/bearer.js';
import { isJsonContentType, JobProtocolError, JSON_SUBMISSION_MESSAGE, parseJobText, rewriteJob, summarizeJob } from './job-protocol.js';
import type { RuleServiceMetrics } from './metrics.js';
import { forward } from './proxy.js';
import { invalidRules, type RuleStore } from './rule-store.js';
import { renderPage, type PageData } from './page.js';
import { admissionQuerySchema, auditQuerySchema, queryOf } from './query.js';
import { rulesRouter } from './rules-routes.js';
import { submitterOf } from './token.js';

export interface RuleServiceAppDeps {
  admission: Admission;
  actions: Actions;
  store: RuleStore;
  metrics: RuleServiceMetrics;
  log: Logger;
  apiToken?: string;
  /** Proxy mode: the rest-server behind this service. */
  proxyTo?: string;
}

type Handler = (req: Request, res: Response) => Promise<void>;

export function ruleServiceApp(deps: RuleServiceAppDeps): Express {
  const { admission, actions, store, metrics, log } = deps;
  const app = express();
  app.disable('x-powered-by');
  const guard = requireBearer(deps.apiToken, { refuse: 'refused: the rule service has no apiToken configured' });
  const json = express.json({ limit: '4mb', type: ['application/json', '+json'] });
  const text = express.text({ type: ['text/*', 'application/yaml', 'application/x-yaml'], limit: '4mb' });

  app.get('/metrics', async (_req, res) => {
    res.type(metrics.contentType).send(await metrics.exposition());
  });
  app.get('/', statusPage(store, admission));
  app.get('/healthz', (_req, res) => {
    res.status(store.healthy ? 200 : 503).json({ store: store.healthy ? 'ok' : 'unavailable' });
  });
  app.post('/api/v1/admission', json, text, decideAdmission(admission));
  app.use('/api/v1/rules', rulesRouter(store, guard));
  app.post('/api/v1/actions', guard, json, runAction(actions));
  app.get('/api/v1/audit', guard, async (req, res) => {
    const query = queryOf(auditQuerySchema, req, res);
    if (!query) return;
    res.json({ entries: await readAudit(store.db, query) });
  });
  routeTheRest(app, deps.proxyTo, admission, log);
  app.use(errorHandler(log));
  return app;
}

/** The page at `/`: store health, the rules (invalid ones marked) and the last decisions. */
function statusPage(store: RuleStore, admission: Admission): Handler {
  return async (_req, res) => {
    let page: PageData = { store: { healthy: store.healthy }, rules: [], invalid: [], decisions: admission.recent() };
    try {
      // A hung store must not hang the page.
      const [rules, revision] = await withTimeout(Promise.all([store.list(), store.revision()]), 1_000, 'reading the rules for the page');
      page = { ...page, store: { ...page.store, revision }, rules, invalid: invalidRules(rules) };
    } catch (err) {
      page = { ...page, store: { healthy: false, error: `cannot read the rules: ${(err as Error).message}` } };
    }
    res.type('html').set('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'").send(renderPage(page));
  };
}

/** POST /api/v1/admission: the decision for one job submission (JSON or the job's YAML). */
function decideAdmission(admission: Admission): Handler {
  return async (req, res) => {
    const submitter = submitterOf(req.headers.authorization);
    const token = submitter.ok ? submitter.token : undefined;
    const query = queryOf(admissionQuerySchema, req, res);
    if (!query) return;
    const queryUser = query.user;
    let request;
    try {
      request = admissionRequestFrom(req.body, req.headers['content-type'], queryUser ?? (submitter.ok ? submitter.user : undefined));
    } catch (err) {
      if (err instanceof AdmissionInputError) {
        res.status(400).json({ error: err.message });
        return;
      }
      throw err;
    }
    res.json(await admission.decide(request, { token }));
  };
}

/** POST /api/v1/actions: a kill or downgrade, checked and carried out (or refused). */
function runAction(actions: Actions): Handler {
  return async (req, res) => {
    const parsed = actionRequestSchema.safeParse(req.body);
    if (!parsed.success) {
      res.status(400).json({ error: parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ') });
      return;
    }
    const answer = await actions.run(parsed.data, 'api');
    res.status(answer.httpStatus).json(answer.body);
  };
}

/** Proxy mode: job submissions through the rules, everything else to rest-server; else 404. */
function routeTheRest(app: Express, proxyTo: string | undefined, admission: Admission, log: Logger): void {
  if (!proxyTo) {
    app.use((_req, res) => {
      res.status(404).json({ error: 'not found' });
    });
    return;
  }
  const target = new URL(proxyTo);
  app.post('/api/v2/jobs', express.raw({ type: () => true, limit: '16mb' }), (req, res, next) => {
    submitThroughRules(req, res, target, admission, log).catch(next);
  });
  app.use((req, res) => forward(req, res, { target, log }));
}

/** Proxy mode's POST /api/v2/jobs: decide, then forward (maybe rewritten) or refuse with 403. */
async function submitThroughRules(req: Request, res: Response, target: URL, admission: Admission, log: Logger): Promise<void> {
  const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
  // Every submission is decided; one whose submitter cannot be told is refused here, never forwarded.
  const submitter = submitterOf(req.headers.authorization);
  if (!submitter.ok) {
    res
      .status(401)
      .json({ code: 'UnauthorizedUserError', message: `Guest is not allowed to do this operation: ${submitter.why}, so the job rules cannot be applied.` });
    return;
  }
  const { user, token } = submitter;
  const contentType = req.headers['content-type'];
  if (isJsonContentType(contentType)) {
    res.status(400).json({ code: 'InvalidProtocolError', message: JSON_SUBMISSION_MESSAGE });
    return;
  }
  const text = body.toString('utf8');
  let summary;
  try {
    summary = summarizeJob(parseJobText(text, contentType));
  } catch (err) {
    if (err instanceof JobProtocolError) {
      res.status(400).json({ code: 'InvalidProtocolError', message: err.message });
      return;
    }
    throw err;
  }
  const answer = await admission.decide({ user, vc: summary.vc, priority: summary.priority, gpus: summary.gpus }, { token });
  log.info({ user, job: summary.name, result: answer.result, priority: answer.priority, matched: answer.matched }, 'admission');
  const answerHeaders = { 'x-gpuwatch-admission': answer.result };
  if (answer.result === 'fail') {
    const why = answer.reasons.length > 0 ? answer.reasons.join('; ') : `refused by rule ${answer.matched.join(', ')}`;
    res
      .status(403)
      .set(answerHeaders)
      .json({ code: 'AdmissionRejectedError', message: `The job was rejected: ${why}`, reasons: answer.reasons, matched: answer.matched });
    return;
  }
  const lowered = answer.priority !== summary.priority;
  const forwarded = lowered ? Buffer.from(rewriteJob(text, { priority: answer.priority })) : body;
  forward(req, res, { target, log, body: forwarded, answerHeaders });
}

function errorHandler(log: Logger): ErrorRequestHandler {
  return (err: { status?: number; type?: string; message?: string }, req, res, _next) => {
    const status = typeof err.status === 'number' && err.status >= 400 && err.status < 500 ? err.status : 500;
    if (status === 500) log.error({ err: err.message, path: req.path }, 'request failed');
    if (res.headersSent) return;
    res.status(status).json({ error: status === 500 ? `internal error: ${err.message ?? 'unknown'}` : (err.message ?? 'bad request') });
  };
}
