/** The origin check of the board's form POSTs (acknowledge, login, renew and release links). */
import type { Request } from 'express';

/**
 * A form POST from a browser names its origin: it must be the router itself (its Host, or
 * publicUrl behind a proxy). Requests without Origin (curl, scripts) are judged by their token alone.
 */
export function sameOrigin(req: Request, publicUrl: string | undefined): boolean {
  if (req.headers['sec-fetch-site'] === 'cross-site') return false;
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    return false;
  }
  return host === req.headers.host || (publicUrl !== undefined && host === new URL(publicUrl).host);
}
