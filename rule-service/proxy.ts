/**
 * Proxy mode: the rule service in front of rest-server. Job submissions are decided first and
 * forwarded with the priority class rewritten, or refused with the reasons; every other request
 * goes through untouched (method, path, headers, body, status code).
 */
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Logger } from '../src/log.js';

/** Headers that describe one connection, not the message (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

export interface ForwardOptions {
  target: URL;
  log: Logger;
  /** A replacement body (its content-length is set); absent: the request body is streamed. */
  body?: Buffer;
  /** Extra headers on the answer to the client. */
  answerHeaders?: Record<string, string>;
  timeoutMs?: number;
}

/** Forwards `req` to the same path under `target` and streams the answer back. */
export function forward(req: IncomingMessage, res: ServerResponse, options: ForwardOptions): void {
  const { target } = options;
  const url = upstreamUrl(target, req.url ?? '/');
  if (!url) {
    res.writeHead(400, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ code: 'BadRequestError', message: 'only a path (starting with /) can be forwarded to rest-server' }));
    return;
  }
  const headers = endToEnd(req.headers);
  headers.host = target.host;
  if (options.body !== undefined) headers['content-length'] = String(options.body.length);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const upstream = send(url, { method: req.method, headers, timeout: options.timeoutMs ?? 120_000 }, (answer) => {
    const out = endToEnd(answer.headers);
    res.writeHead(answer.statusCode ?? 502, answer.statusMessage, { ...out, ...options.answerHeaders });
    answer.pipe(res);
  });
  upstream.on('timeout', () => upstream.destroy(new Error('rest-server did not answer in time')));
  // A client that goes away takes its upstream request with it.
  res.on('close', () => {
    if (!res.writableFinished) upstream.destroy();
  });
  upstream.on('error', (err) => {
    options.log.warn({ err: err.message, method: req.method, path: req.url }, 'forwarding to rest-server failed');
    if (!res.headersSent) {
      res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ code: 'BadGatewayError', message: `rest-server unreachable: ${err.message}` }));
    } else {
      res.destroy(err);
    }
  });
  if (options.body !== undefined) upstream.end(options.body);
  else req.pipe(upstream);
}

function endToEnd(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const listed = String(headers.connection ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase());
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || listed.includes(name)) continue;
    out[name] = value;
  }
  return out;
}

/**
 * The URL under `target` for a request target, or undefined when it is not a path. The path is
 * appended to the target as text: resolving it as a URL would send `//host:port/…` to that host.
 */
export function upstreamUrl(target: URL, requestTarget: string): URL | undefined {
  if (!requestTarget.startsWith('/')) return undefined;
  const base = target.pathname.replace(/\/+$/, '');
  const url = new URL(`${target.origin}${base}${requestTarget}`);
  return url.origin === target.origin ? url : undefined;
}
