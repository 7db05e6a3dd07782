/** Server-rendered pages of the board (handlebars, HTML-escaped), in the board's time zone. */
import { readFileSync } from 'node:fs';
import Handlebars from 'handlebars';
import { templatesDir } from '../notify/templates.js';
import { localTime } from './local-time.js';
import { registerViewHelpers } from './view-helpers.js';

export type PageName = 'board' | 'incident' | 'ack-result' | 'ack-confirm' | 'action-confirm' | 'login';

/** The logged-in user of a page, and the CSRF token its buttons send. */
export interface PageSession {
  name: string;
  csrf: string;
}

export class Pages {
  private readonly env = Handlebars.create();
  private readonly layout: HandlebarsTemplateDelegate;
  private readonly pages = new Map<string, HandlebarsTemplateDelegate>();

  constructor(
    private readonly timeZone: string,
    private readonly dir = templatesDir(),
  ) {
    this.env.registerHelper('time', (ms: unknown) => (typeof ms === 'number' && Number.isFinite(ms) ? localTime(ms, timeZone) : '—'));
    this.env.registerHelper('eq', (a: unknown, b: unknown) => a === b);
    registerViewHelpers(this.env);
    this.layout = this.env.compile(readFileSync(`${this.dir}web-layout.hbs`, 'utf8'));
  }

  render(page: PageName, title: string, data: Record<string, unknown>, session?: PageSession): string {
    let template = this.pages.get(page);
    if (!template) {
      template = this.env.compile(readFileSync(`${this.dir}${page}.hbs`, 'utf8'));
      this.pages.set(page, template);
    }
    return this.layout({ title, session, body: template({ ...data, session, timeZone: this.timeZone }) });
  }
}
