/** HOST:PORT, [v6]:PORT or :PORT — the one syntax of every `listen` setting and `--listen` flag. */
import { z } from 'zod';

export const LISTEN_ADDRESS = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]*):\d{1,5}$/;

/** The zod field; `example` is shown in the error (each component has its own default port). */
export function listenAddressField(example: string) {
  return z.string().regex(LISTEN_ADDRESS, `expected HOST:PORT, e.g. ${example}`);
}

export const DEFAULT_EXPORTER_PORT = 9445;

/** Where each part listens unless told otherwise (the stack's Prometheus and Alertmanager included). */
export const DEFAULT_LISTEN = {
  exporter: `0.0.0.0:${DEFAULT_EXPORTER_PORT}`,
  router: '127.0.0.1:9460',
  ruleService: '127.0.0.1:9470',
  prometheus: '127.0.0.1:9090',
  alertmanager: '127.0.0.1:9093',
} as const;

/** A listen setting that defaults to `address` (also the example its error shows). */
export function listenAddressWithDefault(address: string) {
  return listenAddressField(address).default(address);
}
