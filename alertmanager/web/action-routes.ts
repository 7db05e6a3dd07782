/**
 * Renew and release of job actions. From a mail: `GET /actions/{renew,release}/<token>` shows the
 * action and a confirm button and changes nothing (mail scanners open links too); the button
 * POSTs the token back, from the router's own page. The token is signed for its purpose, the
 * action and the job's owner, and expires (actions.renewal.linkTtl after its mail was sent). From
 * the board or a script: `POST /api/v1/actions/:id/{renew,release}` with a bearer token or a login
 * (+ CSRF), recorded in the caller's name. `GET /api/v1/actions/:id` (same auth) shows one action.
 */
import express, { type Request, type RequestHandler, type Response } from 'express';
import { actionView, releaseAction, renewAction, type ActionOutcome } from '../actions/renewal.js';
import type { Router } from '../router.js';
import { inTransaction } from '../store/transact.js';
import { verifyLinkToken } from './ack-token.js';
import { callerIn } from './auth.js';
import type { BoardContext } from './board-routes.js';
import { actorOf } from './identity.js';
import { sameOrigin } from './same-origin.js';

const PURPOSES = ['renew', 'release'] as const;
type Purpose = (typeof PURPOSES)[number];
const ACT = { renew: renewAction, release: releaseAction };
const VERB = { renew: 'Renewed', release: 'Released' };

type LinkCheck = { ok: true; actionId: number; owner: string } | { ok: false; status: 400 | 403 | 404 | 410; error: string };

/** The token's signature, expiry and purpose, and that it was made for this action's owner. */
async function checkLink(router: Router, purpose: Purpose, token: string): Promise<LinkCheck> {
  const { ctx } = router;
  const verdict = verifyLinkToken(purpose, token, ctx.links.key, ctx.clock.now());
  if (!verdict.ok) {
    if (verdict.reason === 'expired') return { ok: false, status: 410, error: `this ${purpose} link has expired; ask the on-call team` };
    return { ok: false, status: verdict.reason === 'bad-signature' ? 403 : 400, error: `this ${purpose} link is not valid` };
  }
  const row = await ctx.db.selectFrom('router_actions').select(['id', 'owner']).where('id', '=', verdict.claim.subject).executeTakeFirst();
  if (!row) return { ok: false, status: 404, error: `there is no job action ${verdict.claim.subject}` };
  if (row.owner !== verdict.claim.actor) return { ok: false, status: 403, error: `this ${purpose} link was not made for the owner of this job` };
  return { ok: true, actionId: Number(row.id), owner: row.owner };
}

async function act(router: Router, purpose: Purpose, id: number, actor: string, via: string): Promise<ActionOutcome> {
  const { ctx } = router;
  const outcome = await inTransaction(ctx.db, (trx) => ACT[purpose](ctx, trx, id, actor, via, ctx.clock.now()));
  if (outcome.ok) router.onWork.outbox();
  return outcome;
}

/** The pages behind the links in owner mails. */
export function actionLinkRoutes(routes: express.Router, { router, pages, message }: BoardContext): void {
  const form = express.urlencoded({ extended: false, limit: '16kb' });
  for (const purpose of PURPOSES) {
    routes.get(`/actions/${purpose}/:token`, async (req, res) => {
      const checked = await checkLink(router, purpose, String(req.params.token));
      if (!checked.ok) return message(res, checked.status, 'Nothing was changed', checked.error);
      const row = await router.ctx.db.selectFrom('router_actions').selectAll().where('id', '=', checked.actionId).executeTakeFirstOrThrow();
      const action = actionView(router.ctx, row);
      const data = { action, purpose, renew: purpose === 'renew', token: req.params.token, actor: checked.owner, inGrace: action.status === 'grace' };
      res.type('html').send(pages.render('action-confirm', `${purpose === 'renew' ? 'Keep' : 'Stop'} ${action.job}`, data));
    });

    routes.post(`/actions/${purpose}/:token`, form, async (req, res) => {
      if (!sameOrigin(req, router.ctx.options.publicUrl))
        return message(res, 403, 'Nothing was changed', "The button must be pressed on the router's own page.");
      const checked = await checkLink(router, purpose, String(req.params.token));
      if (!checked.ok) return message(res, checked.status, 'Nothing was changed', checked.error);
      const outcome = await act(router, purpose, checked.actionId, checked.owner, 'e-mail link');
      if (!outcome.ok) return message(res, outcome.status, 'Nothing was changed', outcome.error);
      message(res, 200, `${VERB[purpose]} ${outcome.action.job}`, outcome.message, outcome.action.incidentId);
    });
  }
}

/** The API of job actions, for a known caller (bearer token, or a login with its CSRF token). */
export function addActionRoutes(app: express.Express, router: Router, guard: RequestHandler): void {
  const json = express.json({ limit: '16kb' });
  app.get('/api/v1/actions/:id', guard, async (req, res) => {
    const row = await router.ctx.db.selectFrom('router_actions').selectAll().where('id', '=', Number(req.params.id)).executeTakeFirst();
    if (!row) res.status(404).json({ error: `no job action ${req.params.id}` });
    else res.json({ action: actionView(router.ctx, row) });
  });
  for (const purpose of PURPOSES) {
    app.post(`/api/v1/actions/:id/${purpose}`, guard, json, async (req: Request, res: Response) => {
      const id = Number(req.params.id);
      if (!Number.isInteger(id) || id <= 0) return void res.status(400).json({ error: 'id: expected a job action number' });
      const by = (req.body as { by?: unknown } | undefined)?.by;
      if (by !== undefined && (typeof by !== 'string' || by.length > 200))
        return void res.status(400).json({ error: 'by: expected a name of at most 200 characters' });
      const caller = callerIn(res);
      const outcome = await act(router, purpose, id, actorOf(caller.identity, by as string | undefined), caller.cookie === undefined ? 'the API' : 'the board');
      if (outcome.ok) res.json({ changed: outcome.changed, action: outcome.action, message: outcome.message });
      else res.status(outcome.status).json({ error: outcome.error });
    });
  }
}
