/**
 * Helpers shared by the mail templates and the board's pages: links that can only be http(s), and
 * the OpenPAI jobs and users an incident's alerts hit.
 */
import { formatDuration } from '../../src/config/duration.js';
import Handlebars from 'handlebars';
import { jobOf } from '../incident/grouping.js';

/** The URL when it is an absolute http:// or https:// URL; anything else (javascript:, data:, relative) is not a link. */
export function safeHttpUrl(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  try {
    const url = new URL(value.trim());
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : undefined;
  } catch {
    return undefined;
  }
}

/** `<a href="url">text</a>` for an http(s) URL; otherwise the text and the value, escaped, never a link. */
export function linkHtml(url: unknown, text: string): Handlebars.SafeString {
  const escape = Handlebars.Utils.escapeExpression;
  const safe = safeHttpUrl(url);
  if (safe !== undefined) return new Handlebars.SafeString(`<a href="${escape(safe)}">${escape(text)}</a>`);
  return new Handlebars.SafeString(`${escape(text)}: <code>${escape(shown(url))}</code> (not an http(s) link)`);
}

/** A template value as text: strings as they are, anything else as JSON (never "[object Object]"). */
const shown = (value: unknown): string => (value == null ? '' : typeof value === 'string' ? value : (JSON.stringify(value) ?? ''));

export interface JobHit {
  /** The OpenPAI job id (user~name), or '' when the alert names only a user. */
  job: string;
  user: string;
  vc: string;
}

type Labelled = { labels?: readonly { name: string; value: string }[] };

/** The distinct (job, user, vc) the alerts carry: GPU alerts have them while the GPU is allocated to a job. */
export function jobsOf(alerts: unknown): JobHit[] {
  if (!Array.isArray(alerts)) return [];
  const seen = new Map<string, JobHit>();
  for (const alert of alerts as Labelled[]) {
    const labels = Object.fromEntries((alert.labels ?? []).map((l) => [l.name, l.value]));
    const hit = { job: jobOf(labels) ?? '', user: labels.user ?? '', vc: labels.vc ?? '' };
    if (hit.job === '' && hit.user === '') continue;
    seen.set(JSON.stringify([hit.job, hit.user, hit.vc]), hit);
  }
  return [...seen.values()];
}

/** Registers `link`, `jobsOf` and `duration` (milliseconds as 4h30m) on a handlebars environment. */
export function registerViewHelpers(env: typeof Handlebars): void {
  env.registerHelper('duration', (ms: unknown) => (typeof ms === 'number' && Number.isFinite(ms) ? formatDuration(ms) : ''));
  env.registerHelper('link', (url: unknown, text: unknown) => linkHtml(url, typeof text === 'string' ? text : shown(url)));
  env.registerHelper('jobsOf', (alerts: unknown) => jobsOf(alerts));
}
