/**
 * Invoke (compat.md §2.1) and the legacy InvokeAsync: RequestResponse, Event and DryRun, the log
 * tail, the client context, and AWS's response headers. The payload is handed to the invoker (or
 * the async queue) as it came; the function is found through the invoke path's cache, so a call
 * costs no Postgres or Redis round trip of its own.
 */
import { isUtf8 } from 'node:buffer';
import express, { Router, type Request, type RequestHandler, type Response } from 'express';
import type { InvokeResult } from '../invocation/invoker.js';
import { notFound, refOf, tenantOf, type LambdaApiDeps } from './lambda-context.js';
import { LambdaApiError } from './lambda-errors.js';

/** Lambda's synchronous payload limit (compat.md §2.3). */
const MAX_SYNC_PAYLOAD_BYTES = 6 * 1024 * 1024;
const MAX_CLIENT_CONTEXT_BYTES = 3583;

const parseRaw = express.raw({ limit: MAX_SYNC_PAYLOAD_BYTES, type: () => true });
const rawPayload: RequestHandler = (req, res, next) => {
  parseRaw(req, res, (err?: unknown) => {
    if (err === undefined) return next();
    const type = (err as { type?: unknown }).type;
    if (type === 'entity.too.large') return next(new LambdaApiError('RequestEntityTooLargeException', `Request must be smaller than ${MAX_SYNC_PAYLOAD_BYTES} bytes for the InvokeFunction operation`));
    next(new LambdaApiError('InvalidRequestContentException', 'The request body could not be read.'));
  });
};

export function invokeRoutes(d: LambdaApiDeps): Router {
  const r = Router();

  r.post('/2015-03-31/functions/:FunctionName/invocations', rawPayload, async (req, res) => {
    const tenant = tenantOf(res);
    const ref = refOf(req);
    const type = header(req, 'x-amz-invocation-type') ?? 'RequestResponse';
    if (type !== 'RequestResponse' && type !== 'Event' && type !== 'DryRun') {
      throw new LambdaApiError('ValidationException', `1 validation error detected: Value '${type.slice(0, 64)}' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]`);
    }
    const logType = header(req, 'x-amz-log-type') ?? 'None';
    if (logType !== 'None' && logType !== 'Tail') {
      throw new LambdaApiError('ValidationException', `1 validation error detected: Value '${logType.slice(0, 64)}' at 'logType' failed to satisfy constraint: Member must satisfy enum value set: [Tail, None]`);
    }
    const payload = payloadOf(req);
    if (type === 'DryRun') {
      await d.service.resolve(tenant, ref.name, ref.qualifier).catch(notFoundAs(d, ref.name, ref.qualifier));
      res.status(204).end();
      return;
    }
    if (type === 'Event') {
      if (payload.length > d.maxAsyncPayloadBytes) {
        throw new LambdaApiError('RequestEntityTooLargeException', `${payload.length} byte payload is too large for the Event invocation type (limit ${d.maxAsyncPayloadBytes} bytes)`);
      }
      const id = await d.asyncService.accept(tenant, qualified(ref), payload).catch(notFoundAs(d, ref.name, ref.qualifier));
      res.status(202).set({ 'x-amzn-RequestId': id }).end();
      return;
    }
    const clientContext = clientContextOf(header(req, 'x-amz-client-context'));
    const result = await d.invoker
      .invoke({
        tenantId: tenant,
        functionName: ref.name,
        ...(ref.qualifier === undefined ? {} : { qualifier: ref.qualifier }),
        payload,
        source: 'direct',
        logTail: logType === 'Tail',
        ...(clientContext === undefined ? {} : { clientContext }),
      })
      .catch(notFoundAs(d, ref.name, ref.qualifier));
    writeResult(res, result, result.executedVersion ?? '$LATEST');
  });

  // InvokeAsync (deprecated by AWS, still in the model): an Event invoke answered `{Status: 202}`.
  r.post('/2014-11-13/functions/:FunctionName/invoke-async', rawPayload, async (req, res) => {
    const tenant = tenantOf(res);
    const ref = refOf(req);
    const payload = payloadOf(req);
    if (payload.length > d.maxAsyncPayloadBytes) {
      throw new LambdaApiError('RequestEntityTooLargeException', `${payload.length} byte payload is too large for the Event invocation type (limit ${d.maxAsyncPayloadBytes} bytes)`);
    }
    const id = await d.asyncService.accept(tenant, qualified(ref), payload).catch(notFoundAs(d, ref.name, ref.qualifier));
    res.status(202).set('x-amzn-RequestId', id).json({ Status: 202 });
  });

  return r;
}

function writeResult(res: Response, r: InvokeResult, version: string): void {
  const headers: Record<string, string> = {
    'Content-Type': r.contentType.startsWith('application/json') || r.status === 'failed' ? 'application/json' : r.contentType || 'application/json',
    'x-amzn-RequestId': r.invocationId,
    'X-Amz-Executed-Version': version,
  };
  if (r.status === 'failed') headers['X-Amz-Function-Error'] = 'Unhandled';
  if (r.logResult !== undefined) headers['X-Amz-Log-Result'] = r.logResult;
  res.status(200).set(headers).end(r.payload);
}

/** What the function receives: the bytes sent, `{}` for none; never text it was not sent. */
function payloadOf(req: Request): Buffer {
  const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
  // The authentication may have read up to its own, larger limit.
  if (body.length > MAX_SYNC_PAYLOAD_BYTES) throw new LambdaApiError('RequestEntityTooLargeException', `Request must be smaller than ${MAX_SYNC_PAYLOAD_BYTES} bytes for the InvokeFunction operation`);
  if (body.length === 0 || body.toString('utf8').trim() === '') return Buffer.from('{}');
  if (!isUtf8(body)) throw new LambdaApiError('InvalidRequestContentException', 'Could not parse request body into json: Could not parse payload into json: Invalid UTF-8 middle byte');
  try {
    JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw new LambdaApiError('InvalidRequestContentException', `Could not parse request body into json: Could not parse payload into json: ${(e as Error).message}`);
  }
  return body;
}

/**
 * `X-Amz-Client-Context` is base64 of a JSON object; the runtime gets the JSON text in a header,
 * so anything beyond ASCII is written as JSON escapes.
 */
export function clientContextOf(raw: string | undefined): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (Buffer.byteLength(raw) > MAX_CLIENT_CONTEXT_BYTES) {
    throw new LambdaApiError('InvalidParameterValueException', `Client context must be at most ${MAX_CLIENT_CONTEXT_BYTES} bytes.`);
  }
  const bad = () => new LambdaApiError('InvalidRequestContentException', 'Client context must be a valid Base64-encoded JSON object.');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(raw)) throw bad();
  const bytes = Buffer.from(raw, 'base64');
  if (!isUtf8(bytes)) throw bad();
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw bad();
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad();
  return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The queue's form of a qualified function: `name:qualifier`. */
function qualified(ref: { readonly name: string; readonly qualifier?: string }): string {
  return ref.qualifier === undefined ? ref.name : `${ref.name}:${ref.qualifier}`;
}

/** The invoker's and queue's not-found, in AWS's sentence. */
function notFoundAs(d: LambdaApiDeps, name: string, qualifier: string | undefined): (e: unknown) => never {
  return (e) => {
    if ((e as { type?: string }).type === 'ResourceNotFound') throw notFound(d.region, name, qualifier);
    throw e;
  };
}

function header(req: Request, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
