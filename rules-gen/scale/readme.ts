/** scale/README.md: the topology's processes as the shell commands that start them, in order. */
import { GENERATED_HEADER } from '../yaml-text.js';
import type { ScaleProcess, Topology } from './topology.js';

const ROLE_TITLES: Record<ScaleProcess['role'], string> = {
  store: 'Central store',
  rules: 'Central rule evaluation',
  router: 'Alert routers (one database)',
  alertmanager: 'Alertmanagers (gossip)',
  shard: 'Shards',
  layout: 'Layout constants (scraped by the shards)',
};

const shellQuote = (arg: string) => (/^[\w@%+=:,./{}[\]-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`);

export function scaleReadme(t: Topology): string {
  const lines = [
    `<!-- ${GENERATED_HEADER.replaceAll('\n', ' ')} -->`,
    `# The scaled topology (${t.engine})`,
    '',
    `Run every command from the \`gpuwatch generate --out\` directory; \`{config}\` is the gpuwatch.yaml.`,
    `Every shard remote-writes to ${t.remoteWriteUrl}; alerts go to ${t.alertmanagers.join(', ')}.`,
    '',
    "Debian's packages: `victoria-metrics` (victoria-metrics, vmagent, vmalert), `prometheus`, and",
    '`prometheus-alertmanager`, whose binary is `prometheus-alertmanager`, not `alertmanager`.',
    '`gpuwatch stack --scale --config {config}` runs all of this on one machine with replayed GPUs.',
  ];
  for (const role of Object.keys(ROLE_TITLES) as ScaleProcess['role'][]) {
    const procs = t.processes.filter((p) => p.role === role);
    if (procs.length === 0) continue;
    lines.push('', `## ${ROLE_TITLES[role]}`, '', '```sh');
    for (const p of procs) lines.push(`# ${p.name}, on ${p.listen}`, [p.command, ...p.args].map(shellQuote).join(' '));
    lines.push('```');
  }
  return `${lines.join('\n')}\n`;
}
