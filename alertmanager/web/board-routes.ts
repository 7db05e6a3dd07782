/**
 * The board's pages: the on-call overview, an incident's page, the login, and the page an
 * acknowledge link opens. Opening a link (GET) never changes anything: mail scanners and link
 * previews open links too. The Acknowledge button on that page POSTs, with the link's token.
 * The renew and release links of job owners' mails work the same way (action-routes.ts).
 */
import { createHmac } from 'node:crypto';
import express, { type Request, type Response } from 'express';
import { serialize } from 'cookie';
import type { Router } from '../router.js';
import { templatesDir } from '../notify/templates.js';
import { sessionCookieOf } from './auth.js';
import { activeIncidents, incidentPage } from './board-data.js';
import { Identities } from './identity.js';
import { Pages, type PageSession } from './pages.js';
import { SESSION_COOKIE, Sessions } from './session.js';
import { sameOrigin } from './same-origin.js';
import { actionLinkRoutes } from './action-routes.js';

export interface BoardAuth {
  identities: Identities;
  sessions: Sessions;
}

/** Identities and sessions of a router: its tokens, and a session key derived from its ack secret and installation. */
export function boardAuth(router: Router): BoardAuth {
  const { options, links } = router.ctx;
  const identities = new Identities(options.web.users, options.apiToken);
  const key = createHmac('sha256', links.key.secret).update(`gpuwatch-session-key:${links.key.installId}`).digest('base64url');
  return { identities, sessions: new Sessions(key, options.web.sessionTtlMs, identities) };
}

/** What the board's route groups share: the router, its logins, the pages and two small answers. */
export interface BoardContext {
  router: Router;
  auth: BoardAuth;
  pages: Pages;
  zone: string;
  sessionOf(req: Request): PageSession | undefined;
  message(res: Response, status: number, heading: string, text: string, incidentId?: number): void;
}

export function boardRoutes(router: Router, auth: BoardAuth): express.Router {
  const zone = router.ctx.options.workingHours.timeZone;
  const pages = new Pages(zone);
  const sessionOf = (req: Request): PageSession | undefined => {
    const cookie = sessionCookieOf(req);
    const identity = auth.sessions.verify(cookie, router.ctx.clock.now());
    return identity && cookie ? { name: identity.name, csrf: auth.sessions.csrfToken(cookie) } : undefined;
  };
  const message = (res: Response, status: number, heading: string, text: string, incidentId?: number) =>
    void res
      .status(status)
      .type('html')
      .send(pages.render('ack-result', heading, { heading, message: text, incidentId }));
  const board: BoardContext = { router, auth, pages, zone, sessionOf, message };
  const routes = express.Router();
  routes.use('/static', express.static(`${templatesDir()}static`, { index: false }));
  pageRoutes(routes, board);
  loginRoutes(routes, board);
  ackLinkRoutes(routes, board);
  actionLinkRoutes(routes, board);
  return routes;
}

function pageRoutes(routes: express.Router, { router, pages, zone, sessionOf, message }: BoardContext): void {
  const { clock } = router.ctx;
  routes.get('/', async (req, res) => {
    const now = clock.now();
    const [current, ...next] = router.ctx.rotation.segments(now, now + 400 * 86_400_000, 4);
    const incidents = await activeIncidents(router.ctx.db, router.ctx.links, now, zone);
    const resolved = await router.incidents('resolved', 10);
    res
      .type('html')
      .send(pages.render('board', 'On call', { now: current ?? { dris: [], end: now, source: 'rotation' }, next, incidents, resolved }, sessionOf(req)));
  });

  routes.get('/incidents/:id', async (req, res) => {
    const detail = await router.incident(Number(req.params.id));
    if (!detail) return message(res, 404, 'Not found', `There is no incident ${req.params.id}.`);
    const data = await incidentPage(router.ctx, detail, clock.now(), zone);
    res
      .type('html')
      .send(pages.render('incident', `#${detail.incident.id} ${detail.incident.title}`, data as unknown as Record<string, unknown>, sessionOf(req)));
  });
}

function loginRoutes(routes: express.Router, { router, auth, pages, sessionOf, message }: BoardContext): void {
  const { options, clock } = router.ctx;
  const form = express.urlencoded({ extended: false, limit: '16kb' });
  const cookieOptions = { httpOnly: true, sameSite: 'strict', secure: options.web.secureCookie, path: '/' } as const;

  routes.get('/login', (req, res) => {
    res.type('html').send(pages.render('login', 'Log in', {}, sessionOf(req)));
  });

  routes.post('/login', form, (req, res) => {
    if (!sameOrigin(req, options.publicUrl)) return message(res, 403, 'Refused', 'A login must come from the board itself.');
    const token = typeof req.body?.token === 'string' ? req.body.token.trim() : '';
    const identity = token === '' ? undefined : auth.identities.byToken(token);
    if (!identity)
      return void res
        .status(401)
        .type('html')
        .send(pages.render('login', 'Log in', { error: 'That token is not valid.' }));
    const cookie = serialize(SESSION_COOKIE, auth.sessions.issue(identity, clock.now()), { ...cookieOptions, maxAge: auth.sessions.maxAgeSeconds });
    res.status(303).set('set-cookie', cookie).set('location', '/').end();
  });

  routes.post('/logout', form, (req, res) => {
    const cookie = sessionCookieOf(req);
    if (cookie !== undefined && !auth.sessions.checkCsrf(cookie, typeof req.body?.csrf === 'string' ? req.body.csrf : undefined))
      return message(res, 403, 'Refused', 'Log out from the board itself.');
    res
      .status(303)
      .set('set-cookie', serialize(SESSION_COOKIE, '', { ...cookieOptions, maxAge: 0 }))
      .set('location', '/')
      .end();
  });
}

function ackLinkRoutes(routes: express.Router, { router, pages, message }: BoardContext): void {
  const form = express.urlencoded({ extended: false, limit: '16kb' });
  routes.get('/ack/:token', async (req, res) => {
    const checked = router.checkAckLink(String(req.params.token));
    if (!checked.ok) return message(res, checked.status, 'Not acknowledged', checked.error);
    const detail = await router.incident(checked.claim.incidentId);
    if (!detail) return message(res, 404, 'Not found', `There is no incident ${checked.claim.incidentId}.`);
    res
      .type('html')
      .send(
        pages.render('ack-confirm', `Acknowledge #${detail.incident.id}`, { incident: detail.incident, token: req.params.token, actor: checked.claim.actor }),
      );
  });

  routes.post('/ack/:token', form, async (req, res) => {
    if (!sameOrigin(req, router.ctx.options.publicUrl))
      return message(res, 403, 'Not acknowledged', "The Acknowledge button must be pressed on the router's own page.");
    const outcome = await router.acknowledgeByToken(String(req.params.token));
    if (!outcome.ok) message(res, outcome.status, 'Not acknowledged', outcome.error);
    else if (outcome.changed)
      message(
        res,
        200,
        `Incident #${outcome.incident.id} acknowledged`,
        `${outcome.incident.title}: acknowledged. Post updates on the board.`,
        outcome.incident.id,
      );
    else
      message(
        res,
        200,
        `Incident #${outcome.incident.id} was already acknowledged`,
        `Acknowledged by ${outcome.incident.acknowledgedBy ?? 'someone'}.`,
        outcome.incident.id,
      );
  });
}
