/**
 * The AWS Lambda REST API (restJson1, compat.md §2) as one Express app, beside the admin API on
 * the control plane's port and never behind its bearer tokens: every request is authenticated by
 * the injected `authenticate` seam (SigV4), then served by the routers of this folder; whatever
 * else lies under an API date answers in AWS's envelope. The presigned code downloads of
 * GetFunction are served here too, authenticated by their own signature.
 */
import { randomUUID } from 'node:crypto';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { isUtf8 } from 'node:buffer';
import { isGantryError } from '../../common/errors.js';
import type { TenantId } from '../functions/function-types.js';
import { requestTargetProblem } from '../../common/safe-decode.js';
import { CODE_PATH_PREFIX } from './code-location.js';
import { functionsRoutes } from './functions-routes.js';
import { invokeRoutes } from './invoke-routes.js';
import { setCaller, type LambdaApiDeps } from './lambda-context.js';
import { LambdaApiError, writeLambdaError } from './lambda-errors.js';
import { resourceRoutes } from './resource-routes.js';
import { settingsRoutes } from './settings-routes.js';
import { unsupportedOperation } from './unsupported-operations.js';
import { versionsRoutes } from './versions-routes.js';

export interface LambdaCaller {
  readonly tenant: TenantId;
}

/**
 * Who sent the request (SigV4 in production): a middleware that either answers the refusal
 * itself or calls `next()` once `setCaller(res, …)` has named the tenant. It may read the body
 * (the signature covers it) and leave it in `req.body` as a Buffer.
 */
export type LambdaAuthentication = RequestHandler;

/** A test's or tool's own authentication, as a function of the request. */
export type LambdaAuthenticator = (req: Request) => Promise<LambdaCaller> | LambdaCaller;

export function authenticationOf(authenticate: LambdaAuthenticator): LambdaAuthentication {
  return async (req, res, next) => {
    setCaller(res, await authenticate(req));
    next();
  };
}

/** The paths this app answers: AWS's dated API paths and the code downloads. */
const LAMBDA_PATH = /^\/20\d\d-\d\d-\d\d(\/|$|\?)/;

export function isLambdaApiPath(url: string | undefined): boolean {
  return url !== undefined && (LAMBDA_PATH.test(url) || url.startsWith(CODE_PATH_PREFIX));
}

const MiB = 1024 * 1024;
/** CreateFunction carries a ≤ 50 MB zip as base64 in its JSON. */
const jsonBody = express.json({
  limit: 72 * MiB,
  type: () => true,
  verify: (_req, _res, buf) => {
    if (!isUtf8(buf)) throw new LambdaApiError('InvalidRequestContentException', 'Could not parse request body into json: the body is not valid UTF-8.');
  },
});

export function createLambdaApp(d: LambdaApiDeps, authenticate: LambdaAuthentication): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('query parser', 'extended');
  app.use((req, res, next) => {
    res.setHeader('x-amzn-RequestId', randomUUID());
    // A target that does not decode (or decodes to a control character) never reaches a route.
    const problem = requestTargetProblem(req.url);
    if (problem !== undefined) throw new LambdaApiError('ValidationException', problem);
    next();
  });
  app.get(`${CODE_PATH_PREFIX}:file`, async (req, res) => {
    const sha = d.codeLocation.verify(req.path, new URLSearchParams(req.url.split('?')[1] ?? ''));
    if (sha === undefined) throw new LambdaApiError('AccessDeniedException', 'The code URL is not valid or has expired.');
    const zip = await d.store.getArchive(sha);
    if (zip === undefined) throw new LambdaApiError('ResourceNotFoundException', 'The code archive no longer exists.');
    res.status(200).set({ 'Content-Type': 'application/zip', 'Content-Length': String(zip.length) }).end(zip);
  });
  app.use(authenticate);
  // Invoke reads its payload raw; every other operation's body is JSON.
  app.use(invokeRoutes(d));
  app.use((req, res, next) => {
    // Read already by the authentication (SigV4 signs it): parsed here.
    if (Buffer.isBuffer(req.body)) {
      req.body = parseJson(req.body);
      return next();
    }
    const hasBody = (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0') || req.headers['transfer-encoding'] !== undefined;
    if (!hasBody) return next();
    jsonBody(req, res, (err?: unknown) => next(err === undefined ? undefined : bodyError(err)));
  });
  app.use(functionsRoutes(d));
  app.use(versionsRoutes(d));
  app.use(settingsRoutes(d));
  app.use(resourceRoutes(d));
  app.use((req) => unsupportedOperation(req));
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const sent = writeLambdaError(res, bodyError(err), String(res.getHeader('x-amzn-RequestId') ?? randomUUID()));
    if (sent.status >= 500 && sent.code !== 'UnsupportedOperationException') {
      d.logger.error({ err: err as Error, method: req.method, path: req.path, status: sent.status }, 'lambda api request failed');
    }
  });
  return app;
}

function parseJson(body: Buffer): unknown {
  if (body.length === 0) return {};
  if (!isUtf8(body)) throw new LambdaApiError('InvalidRequestContentException', 'Could not parse request body into json: the body is not valid UTF-8.');
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new LambdaApiError('InvalidRequestContentException', 'Could not parse request body into json: the body is not valid JSON.');
  }
}

/** body-parser's refusals in AWS's words. */
function bodyError(err: unknown): unknown {
  if (err instanceof LambdaApiError || isGantryError(err)) return err;
  const type = (err as { type?: unknown }).type;
  if (type === 'entity.too.large') return new LambdaApiError('RequestEntityTooLargeException', 'Request must be smaller than 75497472 bytes.');
  if (type === 'entity.parse.failed') return new LambdaApiError('InvalidRequestContentException', 'Could not parse request body into json: the body is not valid JSON.');
  const status = (err as { status?: unknown }).status;
  if (typeof status === 'number' && status >= 400 && status < 500) return new LambdaApiError('InvalidRequestContentException', 'The request could not be read.');
  return err;
}
