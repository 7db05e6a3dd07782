/** HOST:PORT, [v6]:PORT or :PORT — the one syntax of every `listen` setting and `--listen` flag. */
import { z } from 'zod';

export const LISTEN_ADDRESS = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]*):\d{1,5}$/;

/** The zod field; `example` is shown in the error (each component has its own default port). */
export function listenAddressField(example: string) {
  return z.string().regex(LISTEN_ADDRESS, `expected HOST:PORT, e.g. ${example}`);
}
