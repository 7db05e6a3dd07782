/**
 * Which incident an alert belongs to: cluster + alertname + the grouping label of its kind — the
 * OpenPAI job for job alerts, the node for GPU and node alerts (also when a GPU alert names the job
 * holding the GPU), nothing for cluster-wide alerts.
 * Alerts of one incident are paged and acknowledged once.
 */

export type IncidentScope = 'job' | 'node' | 'cluster';

export interface IncidentGroup {
  /** Stable key; one open incident per key. */
  key: string;
  cluster: string;
  alertname: string;
  scope: IncidentScope;
  /** The job id or node name ('' for cluster-wide alerts). */
  subject: string;
}

/** OpenPAI job ids are user~name; Prometheus' own `job` label (the scrape job) is not one. */
const OPENPAI_JOB = /^[^~\s/]+~[^~\s/]+$/;

export function groupOf(labels: Readonly<Record<string, string>>): IncidentGroup {
  const cluster = labels.cluster ?? '';
  const alertname = labels.alertname ?? '';
  const job = labels.job ?? '';
  let scope: IncidentScope = 'cluster';
  let subject = '';
  // A GPU alert names the job holding its GPU, but it is about the GPU: grouped by node.
  const aboutGpu = (labels.gpu ?? '') !== '' && (labels.node ?? '') !== '';
  if (OPENPAI_JOB.test(job) && !aboutGpu) {
    scope = 'job';
    subject = job;
  } else if ((labels.node ?? '') !== '') {
    scope = 'node';
    subject = labels.node as string;
  }
  return { key: JSON.stringify([cluster, alertname, scope, subject]), cluster, alertname, scope, subject };
}

/** OpenPAI user names: letters, digits, `_`, `-` and inner dots; nothing that could end or split a mail address. */
const OPENPAI_USER_NAME = /^[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,62}[A-Za-z0-9_])?$/;
const OPENPAI_JOB_NAME = /^[A-Za-z0-9_.-]{1,255}$/;

export function isOpenPaiUserName(name: string): boolean {
  return OPENPAI_USER_NAME.test(name) && !name.includes('..');
}

/** The job id an action alert names (user~name, both in OpenPAI's syntax), or undefined. */
export function jobOf(labels: Readonly<Record<string, string>>): string | undefined {
  const job = labels.job ?? '';
  const [user, name, ...rest] = job.split('~');
  return rest.length === 0 && user !== undefined && name !== undefined && isOpenPaiUserName(user) && OPENPAI_JOB_NAME.test(name) ? job : undefined;
}
