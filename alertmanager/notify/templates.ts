/**
 * Mail templates (templates/<kind>.text.hbs and .html.hbs) rendered with handlebars. The text
 * template's first line is `Subject: …`; the HTML body is wrapped in templates/layout.html.hbs.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import { DateTime } from 'luxon';
import type { NotificationKind } from '../../src/config/router.js';
import { registerViewHelpers } from '../web/view-helpers.js';

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

const SEVERITY_NAMES = ['cluster down', 'feature down', 'repeated failures', 'random failures'];

/** The templates folder next to the sources (also when running the compiled copy under dist/). */
export function templatesDir(): string {
  const candidates = [new URL('../templates/', import.meta.url), new URL('../../../alertmanager/templates/', import.meta.url)];
  for (const candidate of candidates) {
    const path = fileURLToPath(candidate);
    if (existsSync(`${path}page.text.hbs`)) return path;
  }
  throw new Error('alert router templates not found (alertmanager/templates)');
}

export class MailTemplates {
  private readonly text = Handlebars.create();
  private readonly html = Handlebars.create();
  private readonly compiled = new Map<string, { text: HandlebarsTemplateDelegate; html: HandlebarsTemplateDelegate }>();
  private readonly layout: HandlebarsTemplateDelegate;

  /** @param timeZone times in messages are shown in this zone (the team's). */
  constructor(
    timeZone: string,
    private readonly dir = templatesDir(),
  ) {
    const time = (ms: unknown) =>
      typeof ms === 'number' && Number.isFinite(ms) ? DateTime.fromMillis(ms, { zone: timeZone }).toFormat('ccc yyyy-MM-dd HH:mm ZZ') : '';
    const severityName = (s: unknown) => SEVERITY_NAMES[Number(s)] ?? 'unknown';
    for (const env of [this.text, this.html]) {
      env.registerHelper('time', time);
      env.registerHelper('severityName', severityName);
      registerViewHelpers(env);
    }
    this.text.registerPartial('details', this.read('incident-details.text.hbs'));
    this.html.registerPartial('details', this.read('incident-details.html.hbs'));
    this.text.registerPartial('ownerLinks', this.read('owner-links.text.hbs'));
    this.html.registerPartial('ownerLinks', this.read('owner-links.html.hbs'));
    this.layout = this.html.compile(this.read('layout.html.hbs'));
  }

  render(kind: NotificationKind, data: Record<string, unknown>): RenderedMail {
    const template = this.template(kind);
    const full = template.text(data);
    const match = /^Subject: (.*)\r?\n/.exec(full);
    if (!match) throw new Error(`template ${kind}.text.hbs must start with a "Subject: " line`);
    const subject = (match[1] as string).replace(/\s+/g, ' ').trim();
    const text = `${full
      .slice(match[0].length)
      .replace(/\n{3,}/g, '\n\n')
      .trim()}\n`;
    const html = this.layout({ ...data, subject, body: template.html(data) });
    return { subject, text, html };
  }

  private template(kind: string): { text: HandlebarsTemplateDelegate; html: HandlebarsTemplateDelegate } {
    let template = this.compiled.get(kind);
    if (!template) {
      template = {
        text: this.text.compile(this.read(`${kind}.text.hbs`), { noEscape: true, strict: false }),
        html: this.html.compile(this.read(`${kind}.html.hbs`)),
      };
      this.compiled.set(kind, template);
    }
    return template;
  }

  private read(file: string): string {
    return readFileSync(`${this.dir}${file}`, 'utf8');
  }
}
