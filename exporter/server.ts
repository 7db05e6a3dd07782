/** The exporter's HTTP face: /metrics from the last snapshot, /healthz, and a small index page. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type Express } from 'express';
import type { Collector } from './collector.js';

const EXPOSITION_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/**
 * The body is encoded once per collection; a scrape writes the ready bytes (gzip when asked, as
 * Prometheus does), so fifty scrapers cost no more than fifty writes.
 */
export function serveMetrics(collector: Collector, req: IncomingMessage, res: ServerResponse): void {
  const { plain, gzip } = collector.encoded;
  const wantsGzip = /\bgzip\b/.test(req.headers['accept-encoding'] ?? '');
  const body = wantsGzip ? gzip : plain;
  res.writeHead(200, {
    'content-type': EXPOSITION_TYPE,
    'content-length': body.length,
    ...(wantsGzip ? { 'content-encoding': 'gzip' } : {}),
    vary: 'accept-encoding',
  });
  res.end(body);
}

/**
 * The request handler: GET /metrics is answered before express's router (it is the hot path, hit
 * by every scraper); everything else goes through express.
 */
export function exporterHandler(collector: Collector): (req: IncomingMessage, res: ServerResponse) => void {
  const app = exporterApp(collector);
  return (req, res) => {
    if (req.method === 'GET' && req.url === '/metrics') serveMetrics(collector, req, res);
    else app(req, res);
  };
}

export function exporterApp(collector: Collector): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.get('/metrics', (req, res) => serveMetrics(collector, req, res));
  app.get('/healthz', (_req, res) => {
    const last = collector.lastGpuSuccessMs;
    const body = { healthy: collector.healthy(), lastGpuSuccess: last === undefined ? null : new Date(last).toISOString() };
    res.status(body.healthy ? 200 : 503).json(body);
  });
  app.get('/', (_req, res) => {
    res.type('html').send('<h1>gpuwatch exporter</h1><p><a href="/metrics">/metrics</a> · <a href="/healthz">/healthz</a></p>');
  });
  return app;
}
