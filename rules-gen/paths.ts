/** Where `gpuwatch generate` writes each file, relative to --out. */
export const RULES_FILE = 'prometheus/rules.yml';
export const RULES_TEST_FILE = 'prometheus/rules.test.yml';
export const SCRAPE_FILE = 'prometheus/scrape.yml';
export const PROMETHEUS_RULE_FILE = 'kubernetes/prometheusrule.yaml';
export const ALERTMANAGER_FILE = 'alertmanager/alertmanager.yml';
