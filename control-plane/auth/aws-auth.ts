/**
 * SigV4 for the control plane's AWS-shaped APIs (the Lambda API): an Express middleware that
 * reads the body (the signature covers it), verifies the request with `common/sigv4`, and either
 * hands the identity on (`awsIdentity(res)`, tenant included) or answers in the Lambda error
 * envelope (compat.md §2.2): `x-amzn-ErrorType`, `x-amzn-RequestId`, `{"Type","message"}` and
 * the `Date` header the SDKs correct their clock from. Bearer tokens are not taken here; the
 * admin API keeps them.
 *
 * After it, `req.body` is the raw body as a Buffer: body parsers mounted later skip a read body,
 * so the routes parse it themselves (Invoke passes it on untouched).
 */
import { randomUUID } from 'node:crypto';
import type { RequestHandler, Response } from 'express';
import type http from 'node:http';
import { SigV4Failure, sigv4ErrorResponse, type SigV4Identity, type SigV4Verifier } from '../../common/sigv4/sigv4-verifier.js';

export interface AwsAuthOptions {
  /** `lambda` for the Lambda API. */
  readonly service: string;
  /** Larger bodies get 413 RequestEntityTooLargeException before any verification. */
  readonly maxBodyBytes: number;
}

export interface AwsRequestContext extends SigV4Identity {
  /** Also sent as `x-amzn-RequestId` on refusals; routes may reuse it for their answer. */
  readonly requestId: string;
}

const LOCALS_KEY = 'gantryAws';

/** The verified caller of a request that passed `createAwsAuth`. */
export function awsIdentity(res: Response): AwsRequestContext {
  const ctx = res.locals[LOCALS_KEY] as AwsRequestContext | undefined;
  if (ctx === undefined) throw new Error('awsIdentity() on a request the SigV4 middleware did not verify');
  return ctx;
}

export function createAwsAuth(verifier: SigV4Verifier, opts: AwsAuthOptions): RequestHandler {
  return (req, res, next) => {
    const requestId = randomUUID();
    const target = req.originalUrl;
    const q = target.indexOf('?');
    readLimited(req, opts.maxBodyBytes).then(
      async (body) => {
        if (body === undefined) return refuse(res, 413, 'RequestEntityTooLargeException', `Request must be smaller than ${opts.maxBodyBytes} bytes for this operation`, requestId);
        (req as { body?: unknown }).body = body;
        const identity = await verifier.verify(
          { method: req.method, path: q < 0 ? target : target.slice(0, q), query: q < 0 ? '' : target.slice(q + 1), headers: req.headers, body },
          opts.service,
        );
        res.locals[LOCALS_KEY] = { ...identity, requestId } satisfies AwsRequestContext;
        next();
      },
    ).catch((e: unknown) => {
      if (!(e instanceof SigV4Failure)) return next(e);
      const r = sigv4ErrorResponse(e, requestId, 'lambda');
      res.writeHead(r.status, r.headers);
      res.end(r.body);
    });
  };
}

function refuse(res: http.ServerResponse, status: number, type: string, message: string, requestId: string): void {
  const body = JSON.stringify({ Type: 'User', message });
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    'x-amzn-ErrorType': type,
    'x-amzn-RequestId': requestId,
  });
  res.end(body);
}

/** The whole body, or undefined past `limit` (the rest is drained, not kept). */
async function readLimited(req: http.IncomingMessage, limit: number): Promise<Buffer | undefined> {
  if (Number(req.headers['content-length'] ?? 0) > limit) {
    req.resume();
    return undefined;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let over = false;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) over = true;
    if (!over) chunks.push(chunk);
  }
  return over ? undefined : Buffer.concat(chunks, size);
}
