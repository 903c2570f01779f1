/**
 * Express plumbing shared by the admin routers: a check of the request target before anything
 * decodes it, body parsers with api.md's limits, the one error middleware (GantryError → api.md
 * body; a request Express or body-parser could not read → ValidationError; anything else → a bare
 * InternalError, logged once), and a JSON 404 for unknown paths.
 */
import { isUtf8 } from 'node:buffer';
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import type { Logger } from '../../common/logger.js';
import { errorBody, GantryError, isGantryError } from '../../common/errors.js';
import { requestTargetProblem } from '../../common/safe-decode.js';
import { depthProblem, MAX_FIELD_DEPTH, rawFieldDepth } from './json-limits.js';

const MiB = 1024 * 1024;
const INVALID_UTF8 = 'body.invalid-utf8';

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

/**
 * A path or query that does not decode, or decodes to NUL or another control character, is a 400
 * here rather than a URIError in the router or an encoding error from Postgres (`a%00b`).
 */
export const wellFormedTarget: RequestHandler = (req, _res, next) => {
  const problem = requestTargetProblem(req.url);
  if (problem !== undefined) throw new GantryError('ValidationError', problem, { component: 'admin-api' });
  next();
};

/**
 * JSON bodies regardless of Content-Type (curl users often omit it); 72 MiB per api.md. Invalid
 * UTF-8 is refused: decoding would store U+FFFD in place of what the caller sent. So is `\u0000`
 * in any key or string, which Postgres cannot store in text or jsonb.
 */
const parseJson = express.json({
  limit: 72 * MiB,
  type: () => true,
  strict: false,
  verify: (req, res, buf, encoding) => {
    if (encoding === 'utf-8' && !isUtf8(buf)) throw Object.assign(new Error('invalid UTF-8'), { type: INVALID_UTF8 });
    verifyDepth(req, res, buf, encoding);
  },
});

export const jsonBody: RequestHandler = (req, res, next) => {
  parseJson(req, res, (err?: unknown) => {
    if (err !== undefined) return next(err);
    if (holdsNul(req.body)) {
      return next(new GantryError('ValidationError', 'The request body has a NUL character (\\u0000) in a string; no field can hold one.', { component: 'admin-api' }));
    }
    next();
  });
};

/**
 * Whether any key or string holds U+0000. Iterative, not a JSON.parse reviver: a reviver recurses,
 * and a body in a charset the depth scan does not read could still be nested 100 000 deep here
 * (the depth check after parsing names the field then).
 */
function holdsNul(root: unknown): boolean {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') {
      if (v.includes('\u0000')) return true;
    } else if (Array.isArray(v)) {
      for (const item of v) stack.push(item);
    } else if (typeof v === 'object' && v !== null) {
      for (const [k, item] of Object.entries(v)) {
        if (k.includes('\u0000')) return true;
        stack.push(item);
      }
    }
  }
  return false;
}

/** Raw zip bodies for PUT …/code, up to the 50 MiB zip limit. */
export const zipBody: RequestHandler = express.raw({ limit: 50 * MiB, type: () => true });

export function notFoundHandler(): RequestHandler {
  return (req) => {
    throw new GantryError('ResourceNotFound', `No such endpoint: ${req.method} ${req.path}`, { component: 'admin-api' });
  };
}

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    const e = fromBodyParser(err, req.headers['content-encoding']) ?? err;
    const { status, body } = errorBody(e);
    if (!isGantryError(e) || status >= 500) {
      logger.error({ err: e as Error, method: req.method, path: req.path, status }, 'request failed');
    }
    if (res.headersSent) return;
    res.status(status).json(body);
  };
}

/** body-parser's errors carry a `type`; give them api.md's names. */
function fromBodyParser(err: unknown, contentEncoding: string | string[] | undefined): GantryError | undefined {
  if (isGantryError(err) || typeof err !== 'object' || err === null) return undefined;
  const { type, status, message } = err as { type?: unknown; status?: unknown; message?: unknown };
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
  if (type === INVALID_UTF8) {
    return new GantryError('ValidationError', 'The request body is not valid UTF-8.', { component: 'admin-api' });
  }
  if (type === 'encoding.unsupported') {
    return new GantryError('ValidationError', `Content-Encoding "${String(contentEncoding)}" is not supported: send gzip, deflate, br or no encoding.`, { component: 'admin-api' });
  }
  if (type === 'charset.unsupported') {
    return new GantryError('ValidationError', 'The request body\'s charset is not supported: send UTF-8.', { component: 'admin-api' });
  }
  // A decompression failure arrives untyped, as a 400.
  if (type === undefined && status === 400 && contentEncoding !== undefined) {
    return new GantryError('ValidationError', `The request body is not valid for its Content-Encoding "${String(contentEncoding)}".`, { component: 'admin-api' });
  }
  // Anything else Express or body-parser could not read (an aborted upload, a parameter that does
  // not decode): the client's fault, not ours.
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new GantryError('ValidationError', 'The request could not be read.', { component: 'admin-api', cause: err });
  }
  return undefined;
}

/** A path parameter as one string (Express 5 types allow arrays for wildcard params). */
export function param(req: { params: Record<string, string | string[] | undefined> }, name: string): string {
  const v = req.params[name];
  return Array.isArray(v) ? v.join('/') : v ?? '';
}
