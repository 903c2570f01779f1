/**
 * The `@connections` management API (compat.md §6.4, api.md): `POST` sends the raw body to the
 * connection, `GET` describes it, `DELETE` closes it, on whichever gateway holds it (locally, or
 * through the relay). Answers carry `x-amzn-ErrorType` with `{"message": …}` bodies, and success
 * codes are exactly the SDK model's: 200, 200, 204.
 */
import { BodyTooLarge, readBody } from '../http/incoming.js';
import type http from 'node:http';
import { apiIdOfExecuteApiHost } from '../../common/execute-api-host.js';
import type { Logger } from '../../common/logger.js';
import type { ApiDefinition } from '../routing/route-snapshot.js';
import type { RouteSync } from '../routing/route-sync.js';
import { matchConnectionsPath, newRequestId } from './connection-ids.js';
import type { ConnectionRegistry } from './connection-registry.js';
import { RelayTimeout, type ConnectionOp, type ConnectionOpRequest, type OpResult } from './connection-relay.js';
import { isSigV4, type ConnectionsAuth } from './connections-auth.js';
import { sigv4ErrorResponse, type SigV4Failure } from '../../common/sigv4/sigv4-verifier.js';

export interface ConnectionsApiDeps {
  readonly routes: Pick<RouteSync, 'current'>;
  /** Without `verifySigned`, SigV4 callers are refused. */
  readonly auth: Pick<ConnectionsAuth, 'allows'> & Partial<Pick<ConnectionsAuth, 'verifySigned'>>;
  readonly registry: Pick<ConnectionRegistry, 'lookup'>;
  /** Sends a request to another gateway. */
  readonly relay: (gatewayId: string, req: ConnectionOpRequest) => Promise<OpResult>;
  /** Whether this gateway holds the connection, and the call run on it. */
  readonly holds: (connectionId: string) => boolean;
  readonly local: (req: ConnectionOpRequest) => Promise<OpResult>;
  readonly logger: Logger;
}

export interface ConnectionsApiOptions {
  readonly gatewayId: string;
  readonly maxMessageBytes: number;
}

const OPS: Readonly<Record<string, ConnectionOp>> = { POST: 'post', GET: 'get', DELETE: 'delete' };

const ERRORS = {
  400: ['BadRequestException', 'Invalid connectionId'],
  403: ['ForbiddenException', 'Forbidden'],
  410: ['GoneException', 'Gone'],
  413: ['PayloadTooLargeException', 'Message too long'],
  500: ['InternalServerErrorException', 'Internal server error'],
} as const;


/** Returns a handler that answers and returns true for `@connections` paths of a websocket API. */
export function createConnectionsApi(deps: ConnectionsApiDeps, opts: ConnectionsApiOptions) {
  return (req: http.IncomingMessage, res: http.ServerResponse, path: string): boolean => {
    const parsed = matchConnectionsPath(path);
    if (!parsed) return false;
    const api = apiFor(deps, req.headers.host ?? '', parsed.prefix);
    if (!api) return false;
    const startedNs = process.hrtime.bigint();
    const requestId = newRequestId();
    handle(req, res, api, parsed.connectionId, requestId)
      .catch((e: unknown) => {
        deps.logger.error({ err: e as Error, requestId }, '@connections call failed');
        return res.headersSent ? res.statusCode : sendError(res, 500, requestId);
      })
      .then((status) => {
        const latencyMs = Math.round(Number(process.hrtime.bigint() - startedNs) / 1e4) / 100;
        deps.logger.info({ requestId, method: req.method, api: api.name, route: '@connections', status, latencyMs }, 'request');
      }, () => undefined);
    return true;
  };

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, api: ApiDefinition, connectionId: string | undefined, requestId: string): Promise<number> {
    const op = OPS[req.method ?? ''];
    const signed = isSigV4(req.headers.authorization);
    const verifySigned = deps.auth.verifySigned?.bind(deps.auth);
    if (op === undefined || (signed ? verifySigned === undefined : !deps.auth.allows(req.headers.authorization, api.id))) {
      req.resume();
      return sendError(res, 403, requestId);
    }
    // An id whose percent-escapes do not decode names no connection.
    if (connectionId === undefined) {
      req.resume();
      return sendError(res, 400, requestId);
    }
    let data: Buffer | undefined;
    if (op === 'post') {
      if (Number(req.headers['content-length'] ?? 0) > opts.maxMessageBytes) {
        req.resume();
        return sendError(res, 413, requestId);
      }
      try {
        data = await readBody(req, opts.maxMessageBytes);
      } catch (e) {
        if (e instanceof BodyTooLarge) return sendError(res, 413, requestId);
        throw e;
      }
    } else {
      req.resume();
    }
    if (signed && verifySigned) {
      // The signature covers the body: checked once it is read.
      const target = req.url ?? '/';
      const q = target.indexOf('?');
      const refused = await verifySigned(
        { method: req.method ?? 'GET', path: q < 0 ? target : target.slice(0, q), query: q < 0 ? '' : target.slice(q + 1), headers: req.headers, body: data ?? Buffer.alloc(0) },
        api.tenantId ?? 'default',
      );
      if (refused) return sendSigV4Error(res, refused, requestId);
    }
    const call: ConnectionOpRequest = { op, connectionId, apiId: api.id, ...(data ? { data } : {}) };
    const result = await run(call);
    if (result.status === 200) {
      const body = result.body ? Buffer.from(JSON.stringify(result.body)) : Buffer.alloc(0);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(body.length), 'x-amzn-RequestId': requestId });
      res.end(body);
      return 200;
    }
    if (result.status === 204) {
      res.writeHead(204, { 'x-amzn-RequestId': requestId });
      res.end();
      return 204;
    }
    return sendError(res, result.status in ERRORS ? (result.status as keyof typeof ERRORS) : 500, requestId);
  }

  async function run(call: ConnectionOpRequest): Promise<OpResult> {
    if (deps.holds(call.connectionId)) return deps.local(call);
    const owner = await deps.registry.lookup(call.connectionId);
    if (!owner || owner.apiId !== call.apiId) return { status: 410 };
    // Held here a moment ago but closed since: the local table is the truth for our own.
    if (owner.gatewayId === opts.gatewayId) return deps.local(call);
    try {
      return await deps.relay(owner.gatewayId, call);
    } catch (e) {
      // The owner died while the call was on its way (Redis still counted its subscription).
      if (e instanceof RelayTimeout && (await deps.registry.lookup(call.connectionId)) === undefined) return { status: 410 };
      throw e;
    }
  }
}

/**
 * `/{api}/@connections/…` on the shared host; `/@connections/…` or `/$default/@connections/…` (the
 * `https://{domainName}/{stage}` form) on an API's own host and on its `execute-api` name.
 */
function apiFor(deps: ConnectionsApiDeps, host: string, prefix: string): ApiDefinition | undefined {
  const table = deps.routes.current().table;
  const executeApiId = host === '' ? undefined : apiIdOfExecuteApiHost(host);
  const byHost = executeApiId !== undefined ? table.findApiById(executeApiId) : host === '' ? undefined : table.findApiByHost(host);
  const api = byHost ? (STAGE_PREFIXES.has(prefix) ? byHost : undefined) : /^\/[^/]+$/.test(prefix) ? table.findApiByName(prefix.slice(1)) : undefined;
  return api?.protocol === 'websocket' ? api : undefined;
}

/** WebSocket APIs have the one stage `$default`; `$` may arrive escaped. */
const STAGE_PREFIXES = new Set(['', '/$default', '/%24default']);

function sendSigV4Error(res: http.ServerResponse, f: SigV4Failure, requestId: string): number {
  const r = sigv4ErrorResponse(f, requestId, 'message');
  res.writeHead(r.status, r.headers);
  res.end(r.body);
  return r.status;
}

function sendError(res: http.ServerResponse, status: keyof typeof ERRORS, requestId: string): number {
  const [type, message] = ERRORS[status];
  const body = JSON.stringify({ message });
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    'x-amzn-ErrorType': type,
    'x-amzn-RequestId': requestId,
  });
  res.end(body);
  return status;
}

