/**
 * The routed path, without Express: find the API (custom Host, else the `/{api}` prefix), match
 * the route in the compiled table, build the payload 2.0 event, invoke through the upstream and
 * map the result by API Gateway's rules. One access-log line per request.
 */
import { randomBytes } from 'node:crypto';
import type http from 'node:http';
import type { Logger } from '../../common/logger.js';
import { buildHttpV2Event } from '../events/http-v2-event.js';
import { mapHttpV2Result, type MappedResponse } from '../responses/http-v2-response.js';
import type { ApiDefinition } from '../routing/route-snapshot.js';
import type { RouteSync } from '../routing/route-sync.js';
import { UpstreamError, type Upstream } from '../upstream/upstream.js';
import type { GatewayMetrics } from './gateway-metrics.js';
import { sendGatewayMessage, type GatewayMessage } from './gateway-responses.js';

export interface RoutedHandlerDeps {
  readonly routes: RouteSync;
  readonly upstream: Upstream;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
}

export interface RoutedHandlerOptions {
  readonly integrationTimeoutMs: number;
  readonly maxBodyBytes: number;
}

class BodyTooLarge extends Error {}

export function createRoutedHandler(deps: RoutedHandlerDeps, opts: RoutedHandlerOptions) {
  return (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const startedNs = process.hrtime.bigint();
    const requestId = newRequestId();
    const log = { requestId, method: req.method, path: req.url, route: undefined as string | undefined, invocationId: undefined as string | undefined };
    handle(req, res, requestId, log)
      .catch((e: unknown) => {
        if (!(e instanceof BodyTooLarge)) deps.logger.error({ err: e as Error, requestId }, 'routed request failed');
        return res.headersSent ? res.statusCode : send(res, e instanceof BodyTooLarge ? 'tooLarge' : 'internal', requestId);
      })
      .then((status) => {
        const latencyMs = Number(process.hrtime.bigint() - startedNs) / 1e6;
        deps.metrics.requests.inc({ status: String(status) });
        deps.metrics.latency.observe(latencyMs / 1000);
        deps.logger.info({ ...log, status, latencyMs: Math.round(latencyMs * 100) / 100 }, 'request');
      }, () => undefined);
  };

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, requestId: string, log: { route: string | undefined; invocationId: string | undefined }): Promise<number> {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const fullPath = q < 0 ? url : url.slice(0, q);
    const rawQueryString = q < 0 ? '' : url.slice(q + 1);
    const live = deps.routes.current();
    const target = findApi(live.table, req.headers.host ?? '', fullPath);
    if (!target || target.api.protocol !== 'http') return send(res, 'notFound', requestId);
    const match = live.table.match(target.api, req.method ?? 'GET', target.path);
    if (!match) return send(res, 'notFound', requestId);
    log.route = match.route.routeKey;
    const body = await readBody(req, opts.maxBodyBytes);
    const event = buildHttpV2Event({
      routeKey: match.route.routeKey,
      method: req.method ?? 'GET',
      rawPath: target.path,
      rawQueryString,
      rawHeaders: req.rawHeaders,
      body,
      sourceIp: clientIp(req),
      httpVersion: req.httpVersion,
      apiId: target.api.id,
      domainName: req.headers.host ?? '',
      requestId,
      timeEpochMs: Date.now(),
      pathParameters: match.pathParameters,
    });
    const fnTimeout = live.functionTimeoutsMs.get(match.route.functionName);
    const timeoutMs = Math.min(opts.integrationTimeoutMs, fnTimeout === undefined ? Infinity : fnTimeout + 1_000);
    try {
      const result = await deps.upstream.invoke(match.route.functionName, Buffer.from(JSON.stringify(event)), timeoutMs);
      log.invocationId = result.invocationId;
      return write(res, mapHttpV2Result({ payload: result.payload, functionError: result.functionError }), requestId);
    } catch (e) {
      if (!(e instanceof UpstreamError)) throw e;
      if (e.kind === 'failed') deps.logger.warn({ err: e, requestId }, 'integration failed');
      return send(res, upstreamMessage(e), requestId);
    }
  }
}

function findApi(
  table: ReturnType<RouteSync['current']>['table'],
  host: string,
  fullPath: string,
): { api: ApiDefinition; path: string } | undefined {
  const byHost = host === '' ? undefined : table.findApiByHost(host);
  if (byHost) return { api: byHost, path: fullPath };
  const slash = fullPath.indexOf('/', 1);
  const name = slash < 0 ? fullPath.slice(1) : fullPath.slice(1, slash);
  const api = table.findApiByName(name);
  if (!api) return undefined;
  return { api, path: slash < 0 ? '/' : fullPath.slice(slash) };
}

function upstreamMessage(e: UpstreamError): GatewayMessage {
  switch (e.kind) {
    case 'timeout':
      return 'timedOut';
    case 'throttled':
      return 'throttled';
    case 'unavailable':
      return 'unavailable';
    case 'not-found':
    case 'failed':
      return 'internal';
  }
}

function write(res: http.ServerResponse, mapped: MappedResponse, requestId: string): number {
  const flat: string[] = [];
  for (const [name, value] of mapped.headers) flat.push(name, value);
  flat.push('content-length', String(mapped.body.length), 'apigw-requestid', requestId);
  res.writeHead(mapped.statusCode, flat);
  res.end(mapped.body);
  return mapped.statusCode;
}

function send(res: http.ServerResponse, which: GatewayMessage, requestId: string): number {
  return sendGatewayMessage(res, which, requestId);
}

async function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer | undefined> {
  if (Number(req.headers['content-length'] ?? 0) > limit) throw new BodyTooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new BodyTooLarge();
    chunks.push(chunk as Buffer);
  }
  return size === 0 ? undefined : Buffer.concat(chunks);
}

function clientIp(req: http.IncomingMessage): string {
  const ip = req.socket.remoteAddress ?? '';
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}

/** Shaped like API Gateway's request ids (`Xy12AbCdEFGhIj=`). */
function newRequestId(): string {
  return `${randomBytes(10).toString('base64').slice(0, 13)}=`;
}
