/**
 * Express plumbing shared by the admin routers: body parsers with api.md's limits, the one error
 * middleware (GantryError → api.md body; anything else → a bare InternalError, logged once), and
 * a JSON 404 for unknown paths.
 */
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import type { Logger } from '../../common/logger.js';
import { errorBody, GantryError, isGantryError } from '../../common/errors.js';
import { depthProblem, MAX_FIELD_DEPTH, rawFieldDepth } from '../admin/json-limits.js';

const MiB = 1024 * 1024;

/** Raised before parsing when a field of the body nests deeper than stored fields may. */
class TooDeepBody extends Error {
  readonly type = 'entity.too.deep';
  constructor(readonly field: string | undefined) {
    super('request body nested too deeply');
  }
}

/**
 * Refuses too-deep bodies from their bytes, before JSON.parse builds them. Only UTF-8 bytes are
 * scanned (the structural characters are ASCII there); other charsets are checked after parsing
 * by `parseBody`.
 */
function verifyDepth(_req: unknown, _res: unknown, buf: Buffer, encoding: string | null): void {
  if (encoding !== null && encoding.toLowerCase() !== 'utf-8' && encoding.toLowerCase() !== 'utf8') return;
  const r = rawFieldDepth(buf, MAX_FIELD_DEPTH);
  if (!r.ok) throw new TooDeepBody(r.field);
}

/** JSON bodies regardless of Content-Type (curl users often omit it); 72 MiB per api.md. */
export const jsonBody: RequestHandler = express.json({ limit: 72 * MiB, type: () => true, strict: false, verify: verifyDepth });

/** Raw zip bodies for PUT …/code, up to the 50 MiB zip limit. */
export const zipBody: RequestHandler = express.raw({ limit: 50 * MiB, type: () => true });

export function notFoundHandler(): RequestHandler {
  return (req) => {
    throw new GantryError('ResourceNotFound', `No such endpoint: ${req.method} ${req.path}`, { component: 'admin-api' });
  };
}

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    const e = fromBodyParser(err) ?? err;
    const { status, body } = errorBody(e);
    if (!isGantryError(e) || status >= 500) {
      logger.error({ err: e as Error, method: req.method, path: req.path, status }, 'request failed');
    }
    if (res.headersSent) return;
    res.status(status).json(body);
  };
}

/** body-parser's errors carry a `type`; give them api.md's names. */
function fromBodyParser(err: unknown): GantryError | undefined {
  const type = (err as { type?: string }).type;
  if (type === 'entity.too.large') {
    return new GantryError('RequestTooLarge', 'The request body is larger than the limit.', { component: 'admin-api' });
  }
  if (type === 'entity.too.deep') {
    const field = (err as TooDeepBody).field;
    return new GantryError('ValidationError', `Invalid request: ${field ?? 'body'}: ${depthProblem(MAX_FIELD_DEPTH)}.`, { component: 'admin-api' });
  }
  // V8's parser is iterative today, but a RangeError here is still the body's fault, not ours.
  if (type === 'entity.parse.failed' && err instanceof RangeError) {
    return new GantryError('ValidationError', 'The request body is nested too deeply to parse.', { component: 'admin-api' });
  }
  if (type === 'entity.parse.failed') {
    return new GantryError('ValidationError', 'The request body is not valid JSON.', { component: 'admin-api' });
  }
  if (type === 'encoding.unsupported' || type === 'charset.unsupported' || type === 'request.aborted') {
    return new GantryError('ValidationError', 'The request body could not be read.', { component: 'admin-api' });
  }
  return undefined;
}

/** A path parameter as one string (Express 5 types allow arrays for wildcard params). */
export function param(req: { params: Record<string, string | string[] | undefined> }, name: string): string {
  const v = req.params[name];
  return Array.isArray(v) ? v.join('/') : v ?? '';
}
