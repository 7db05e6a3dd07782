/**
 * The rule service's page at `/`: store health, the rules in matching order (with the stored rows
 * that fail the checks), and the last decisions. Rendered with handlebars, which HTML-escapes every
 * value: rules, names and reasons are user input.
 */
import Handlebars from 'handlebars';
import type { RecentDecision } from './admission.js';
import type { Rule } from './rule.js';
import type { InvalidRule } from './rule-store.js';

export interface PageData {
  store: { healthy: boolean; revision?: number; error?: string };
  rules: readonly Rule[];
  invalid: readonly InvalidRule[];
  decisions: readonly RecentDecision[];
}

const TEMPLATE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>gpuwatch rule service</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; }
table { border-collapse: collapse; margin-bottom: 1.5em; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.5em; text-align: left; vertical-align: top; }
code { font-size: 13px; }
.bad { background: #fdd; }
.ok { color: #070; } .down { color: #b00; }
</style>
</head>
<body>
<h1>gpuwatch rule service</h1>
<p id="store">Rule store:
{{#if store.healthy}}<strong class="ok">ok</strong>{{else}}<strong class="down">unavailable</strong> — every job is kept as submitted{{/if}}
{{#if store.error}}({{store.error}}){{/if}}
{{#if store.revision}} · revision {{store.revision}}{{/if}} · {{rules.length}} rules{{#if invalid.length}} · <strong class="down">{{invalid.length}} invalid, left out</strong>{{/if}}</p>

<h2>Rules, in matching order</h2>
<table id="rules">
<tr><th>id</th><th>user</th><th>vc</th><th>priority</th><th>requested</th><th>occupied</th><th>occupiedHigh</th><th>result</th><th>description</th><th>problems</th></tr>
{{#each rows}}
<tr{{#if problems.length}} class="bad"{{/if}}><td>{{rule.id}}</td><td><code>{{rule.user}}</code></td><td><code>{{rule.vc}}</code></td><td><code>{{rule.priority}}</code></td><td>{{rule.requested}}</td><td>{{rule.occupied}}</td><td>{{rule.occupiedHigh}}</td><td>{{rule.result}}</td><td>{{rule.description}}</td><td>{{#each problems}}{{field}}: {{message}}<br>{{/each}}</td></tr>
{{/each}}
</table>

<h2>Last decisions</h2>
<table id="decisions">
<tr><th>at</th><th>user</th><th>vc</th><th>submitted</th><th>GPUs</th><th>result</th><th>matched</th><th>reasons and notes</th></tr>
{{#each decisions}}
<tr><td>{{at}}</td><td>{{job.user}}</td><td>{{job.vc}}</td><td>{{job.priority}}</td><td>{{job.gpus}}</td><td>{{result}}</td><td>{{#each matched}}{{this}} {{/each}}</td><td>{{#each reasons}}{{this}}<br>{{/each}}{{#each notes}}<em>{{this}}</em><br>{{/each}}</td></tr>
{{else}}
<tr><td colspan="8">no decisions since the service started</td></tr>
{{/each}}
</table>
<p><a href="/api/v1/rules">rules as JSON</a> · <a href="/api/v1/rules?format=yaml">as YAML</a> · <a href="/metrics">metrics</a> · <a href="/healthz">health</a></p>
</body>
</html>
`;

const render = Handlebars.compile(TEMPLATE, { strict: false, noEscape: false });

export function renderPage(data: PageData): string {
  const problemsOf = new Map(data.invalid.map((r) => [r.id, r.problems]));
  const rows = data.rules.map((rule) => ({ rule, problems: problemsOf.get(rule.id) ?? [] }));
  return render({ ...data, rows });
}
