/**
 * `GET /v1/functions/{name}/logs` (api.md, Observing): a function's own output, stored lines or,
 * with `follow=true`, a `text/event-stream` of new lines as they are stored.
 */
import { Router, type Request, type Response } from 'express';
import { GantryError } from '../../common/errors.js';
import { DEFAULT_TENANT } from '../functions/function-types.js';
import type { LogLine } from '../logs/environment-log.js';
import { FollowersFull, type Following, type LogFeed } from '../logs/log-feed.js';
import type { LogStore } from '../logs/log-store.js';
import type { FunctionStore } from '../functions/function-store.js';
import { param } from './express-helpers.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** A comment line this often keeps proxies and idle timeouts from closing a quiet stream. */
const KEEPALIVE_MS = 15_000;
/** A follower whose unread output passes this is dropped, not buffered further. */
const MAX_UNREAD_BYTES = 1024 * 1024;

export function logsRouter(deps: { store: FunctionStore; logs: LogStore; feed: LogFeed }): Router {
  const r = Router();
  r.get('/v1/functions/:name/logs', async (req, res) => {
    const name = param(req, 'name');
    await deps.store.require(DEFAULT_TENANT, name);
    if (req.query.follow !== undefined) {
      if (req.query.follow !== 'true' && req.query.follow !== 'false') {
        throw new GantryError('ValidationError', 'follow must be true or false.', { component: 'admin-api' });
      }
      if (req.query.follow === 'true') return follow(deps.feed, name, req, res);
    }
    const invocationId = typeof req.query.invocationId === 'string' ? req.query.invocationId : undefined;
    if (invocationId !== undefined && !UUID.test(invocationId)) {
      throw new GantryError('ValidationError', 'invocationId must be an invocation id (a UUID).', { component: 'admin-api' });
    }
    const limit = req.query.limit === undefined ? 1000 : Number(req.query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) {
      throw new GantryError('ValidationError', 'limit must be an integer from 1 to 10000.', { component: 'admin-api' });
    }
    const since = sinceOf(req.query.since);
    const lines = await deps.logs.lines(DEFAULT_TENANT, name, invocationId, limit, since);
    res.json({ lines: lines.map(wire) });
  });
  return r;
}

function wire(l: LogLine): { invocationId: string | null; time: string; stream: string; message: string; version: string } {
  return { invocationId: l.invocationId, time: l.time.toISOString(), stream: l.stream, message: l.message, version: l.executedVersion ?? '$LATEST' };
}

function sinceOf(v: unknown): Date | undefined {
  if (v === undefined) return undefined;
  const d = typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(v) ? new Date(v) : undefined;
  if (d === undefined || Number.isNaN(d.getTime())) {
    throw new GantryError('ValidationError', 'since must be an RFC 3339 time, like 2026-01-01T00:00:00Z.', { component: 'admin-api' });
  }
  return d;
}

/** SSE: one `line` event per stored line (data: the line as JSON); `end` when the node shuts down. */
function follow(feed: LogFeed, name: string, req: Request, res: Response): void {
  let following: Following | undefined;
  const end = (reason: string) => {
    clearInterval(keepalive);
    following?.stop();
    if (!res.writableEnded) res.end(`event: end\ndata: ${JSON.stringify({ reason })}\n\n`);
  };
  const keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS);
  keepalive.unref();
  try {
    following = feed.follow(DEFAULT_TENANT, name, (line) => {
      if (res.writableLength > MAX_UNREAD_BYTES) return end('too slow: lines were not read fast enough');
      res.write(`event: line\ndata: ${JSON.stringify(wire(line))}\n\n`);
    }, () => end('shutting down'));
  } catch (e) {
    clearInterval(keepalive);
    if (e instanceof FollowersFull) throw new GantryError('ServiceUnavailable', `Too many log followers on this node (${e.message}); try again later.`, { component: 'admin-api' });
    throw e;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' });
  res.flushHeaders();
  res.write(': following\n\n');
  req.on('close', () => end('closed'));
}
