/** Server-rendered pages of the board (handlebars, HTML-escaped), in the team's time zone. */
import { readFileSync } from 'node:fs';
import Handlebars from 'handlebars';
import { DateTime } from 'luxon';
import { templatesDir } from '../notify/templates.js';

export class Pages {
  private readonly env = Handlebars.create();
  private readonly layout: HandlebarsTemplateDelegate;
  private readonly pages = new Map<string, HandlebarsTemplateDelegate>();

  constructor(
    private readonly timeZone: string,
    private readonly dir = templatesDir(),
  ) {
    this.env.registerHelper('time', (ms: unknown) => (typeof ms === 'number' && Number.isFinite(ms) ? DateTime.fromMillis(ms, { zone: timeZone }).toFormat('ccc dd LLL HH:mm') : '—'));
    this.env.registerHelper('eq', (a: unknown, b: unknown) => a === b);
    this.layout = this.env.compile(readFileSync(`${this.dir}web-layout.hbs`, 'utf8'));
  }

  render(page: 'board' | 'incident' | 'ack-result', title: string, data: Record<string, unknown>): string {
    let template = this.pages.get(page);
    if (!template) {
      template = this.env.compile(readFileSync(`${this.dir}${page}.hbs`, 'utf8'));
      this.pages.set(page, template);
    }
    return this.layout({ title, body: template({ ...data, timeZone: this.timeZone }) });
  }
}
