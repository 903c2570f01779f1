/**
 * `POST /v1/functions/{name}/invoke`, the hot path, served without Express: authenticate, read
 * the payload (≤ 6 MiB), invoke, and write the result with api.md's X-Gantry-* headers. Gateways
 * call the same endpoint with the internal token over a keep-alive pool. An asynchronous invoke
 * (≤ 1 MiB by default) is answered 202 once its event is durably queued.
 */
import type http from 'node:http';
import { isUtf8 } from 'node:buffer';
import type { Logger } from '../../common/logger.js';
import { errorBody, GantryError } from '../../common/errors.js';
import { INVOCATION_SOURCE_HEADER, THROTTLE_REASON_HEADER } from '../../common/invoke-protocol.js';
import { decodeComponent, hasControlCharacter } from '../../common/safe-decode.js';
import type { TokenAuth } from '../auth/token-auth.js';
import { DEFAULT_TENANT, type TenantId } from '../functions/function-types.js';
import type { InvokeResult, Invoker } from '../invocation/invoker.js';
import { splitQualifiedName } from '../functions/lambda-contract.js';
import { combineQualifiers } from '../functions/qualifier.js';

/** Lambda's synchronous payload limit (compat.md §2.3): 6 MiB. */
export const MAX_SYNC_PAYLOAD_BYTES = 6 * 1024 * 1024;
const INVOKE_PATH = /^\/v1\/functions\/([^/?]+)\/invoke(?:\?(.*))?$/;

/** Where `?async=true` / `X-Gantry-Invocation-Type: Event` events go (the async queue). */
export interface AsyncAcceptor {
  /** Resolves with the invocation id once the event is durably queued; `functionName` may be `name:qualifier`. */
  accept(tenantId: TenantId, functionName: string, event: Buffer): Promise<string>;
  /** compat.md §2.3: 1 MiB since AWS's 2025 raise, configurable. */
  readonly maxPayloadBytes: number;
}

export interface InvokeHandlerDeps {
  readonly auth: TokenAuth;
  readonly invoker: Invoker;
  readonly async: AsyncAcceptor;
  readonly logger: Logger;
}

/** Returns false when the request is not an invoke, so the caller can pass it on. */
export function createInvokeHandler(deps: InvokeHandlerDeps): (req: http.IncomingMessage, res: http.ServerResponse) => boolean {
  return (req, res) => {
    const m = req.method === 'POST' ? INVOKE_PATH.exec(req.url ?? '') : null;
    if (!m) return false;
    // The error boundary: whatever goes wrong, synchronously or not, ends this request alone.
    try {
      handle(deps, req, res, m[1] as string, m[2] ?? '').catch((e: unknown) => sendError(deps.logger, req, res, e));
    } catch (e) {
      sendError(deps.logger, req, res, e);
    }
    return true;
  };
}

async function handle(
  deps: InvokeHandlerDeps,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  rawName: string,
  rawQuery: string,
): Promise<void> {
  const caller = deps.auth.authenticate(req.headers.authorization, true);
  const functionName = decodeComponent(rawName);
  if (functionName === undefined || hasControlCharacter(functionName)) {
    throw new GantryError('ValidationError', 'The function name in the path is not validly encoded.', { component: 'invoke-api' });
  }
  const encoding = header(req, 'content-encoding');
  if (encoding !== undefined && encoding.toLowerCase() !== 'identity') {
    throw new GantryError('ValidationError', `Content-Encoding "${encoding}" is not supported: send the payload unencoded.`, { component: 'invoke-api' });
  }
  const query = new URLSearchParams(rawQuery);
  // `name:qualifier` in the path (as gateways send a route's target) and `?qualifier=` must agree.
  const { name, qualifier: inName } = splitQualifiedName(functionName);
  const qualifier = combineQualifiers(inName, query.get('qualifier') ?? undefined);
  const target = qualifier === undefined ? name : `${name}:${qualifier}`;
  const invocationType = header(req, 'x-gantry-invocation-type');
  if (query.get('async') === 'true' || invocationType === 'Event') {
    const event = await readPayload(req, deps.async.maxPayloadBytes, asyncTooLarge);
    const invocationId = await deps.async.accept(DEFAULT_TENANT, target, event);
    const text = JSON.stringify({ invocationId });
    res.writeHead(202, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'X-Gantry-Invocation-Id': invocationId });
    res.end(text);
    return;
  }
  const payload = await readPayload(req, MAX_SYNC_PAYLOAD_BYTES, tooLarge);
  const result = await deps.invoker.invoke({
    tenantId: DEFAULT_TENANT,
    functionName: target,
    payload,
    // A gateway says when a WebSocket message brought the call.
    source: caller !== 'internal' ? 'direct' : header(req, INVOCATION_SOURCE_HEADER) === 'websocket' ? 'websocket' : 'gateway',
    logTail: header(req, 'x-gantry-log-type')?.toLowerCase() === 'tail',
  });
  writeResult(res, result);
}

function writeResult(res: http.ServerResponse, r: InvokeResult): void {
  const headers: Record<string, string | number> = {
    'Content-Type': contentTypeOf(r),
    'Content-Length': r.payload.length,
    'X-Gantry-Invocation-Id': r.invocationId,
    'X-Gantry-Billed-Duration-Ms': String(r.billedMs),
    'X-Gantry-Cold-Start': r.coldStart === 'none' ? 'false' : 'true',
    'X-Gantry-Executed-Version': r.executedVersion ?? '$LATEST',
  };
  if (r.coldStart !== 'none') {
    headers['X-Gantry-Cold-Start-Kind'] = r.coldStart;
    headers['X-Gantry-Init-Duration-Ms'] = (r.initDurationUs / 1000).toFixed(2);
  }
  if (r.environmentId !== undefined) headers['X-Gantry-Environment-Id'] = r.environmentId;
  if (r.status === 'failed') headers['X-Gantry-Function-Error'] = 'Unhandled';
  if (r.logResult !== undefined) headers['X-Gantry-Log-Result'] = r.logResult;
  res.writeHead(200, headers);
  res.end(r.payload);
}

/** Stock runtimes post JSON; a `provided` bootstrap may post anything (api.md: octet-stream). */
function contentTypeOf(r: InvokeResult): string {
  if (r.status === 'failed' || r.contentType.startsWith('application/json')) return 'application/json';
  try {
    JSON.parse(r.payload.toString('utf8'));
    return 'application/json';
  } catch {
    return 'application/octet-stream';
  }
}

async function readPayload(req: http.IncomingMessage, limit: number, tooBig: (size: number, limit: number) => GantryError): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw tooBig(declared, limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw tooBig(size, limit);
    chunks.push(chunk as Buffer);
  }
  const body = Buffer.concat(chunks);
  // An empty body reaches the handler as {} (api.md); stock runtimes JSON.parse what they get.
  if (body.length === 0 || body.toString('utf8').trim() === '') return Buffer.from('{}');
  // Decoding would replace bad bytes with U+FFFD and hand the function something it was not sent.
  if (!isUtf8(body)) throw new GantryError('ValidationError', 'The invoke payload is not valid UTF-8.', { component: 'invoke-api' });
  try {
    JSON.parse(body.toString('utf8'));
  } catch {
    throw new GantryError('ValidationError', 'The invoke payload is not valid JSON.', { component: 'invoke-api' });
  }
  return body;
}

/** AWS's wording for the Event invocation type (compat.md §2.2). */
function asyncTooLarge(size: number, limit: number): GantryError {
  return new GantryError('RequestTooLarge', `${size} byte payload is too large for the Event invocation type (limit ${limit} bytes).`, {
    component: 'invoke-api',
  });
}

function tooLarge(): GantryError {
  return new GantryError('RequestTooLarge', `Request must be smaller than ${MAX_SYNC_PAYLOAD_BYTES} bytes for a synchronous invocation.`, {
    component: 'invoke-api',
  });
}

function header(req: http.IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function sendError(logger: Logger, req: http.IncomingMessage, res: http.ServerResponse, e: unknown): void {
  const { status, body } = errorBody(e);
  if (!(e instanceof GantryError) || status >= 500) logger.error({ err: e as Error, status, path: req.url }, 'invoke failed');
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  const text = JSON.stringify(body);
  const headers: Record<string, string | number> = { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) };
  if (status === 429) {
    headers['Retry-After'] = '1';
    // Which limit refused it (compat.md §2.2 Reason): a gateway tries another node only when the node is full.
    const reason = e instanceof GantryError ? e.details?.['reason'] : undefined;
    if (typeof reason === 'string') headers[THROTTLE_REASON_HEADER] = reason;
  }
  // A body we refused to read: close the connection rather than drain up to 6 MiB more.
  if (status === 413) headers.Connection = 'close';
  res.writeHead(status, headers);
  res.end(text);
}
