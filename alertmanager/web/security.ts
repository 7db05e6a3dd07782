/**
 * Response headers for every answer (helmet): a Content-Security-Policy that runs only the
 * router's own script file (no inline script, no inline handlers), no framing, no MIME sniffing,
 * no Referer to other sites (acknowledge links carry their token in the path; same-origin keeps
 * the Origin header that form posts are checked by).
 */
import helmet from 'helmet';
import type { RequestHandler } from 'express';

export function securityHeaders(https: boolean): RequestHandler {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'"],
        connectSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
      },
    },
    xFrameOptions: { action: 'deny' },
    referrerPolicy: { policy: 'same-origin' },
    strictTransportSecurity: https ? { maxAge: 31_536_000 } : false,
    crossOriginEmbedderPolicy: false,
  });
}
