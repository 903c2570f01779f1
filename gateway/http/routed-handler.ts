/**
 * The routed path, without Express: find the API (custom Host, else the `/{api}` prefix), answer a
 * CORS preflight itself, match the route in the compiled table, let the route guard decide
 * (authorizer, API key, throttles, quota), build the route's payload (2.0 or 1.0), invoke through
 * the upstream and map the result by API Gateway's rules for that version, with the API's CORS
 * headers. An access-log line (route, status, latency, invocation id, key id) per 5xx and per GANTRY_ACCESS_LOG_EVERY requests.
 */
import type http from 'node:http';
import type { Logger } from '../../common/logger.js';
import { mapHttpV1Result } from '../responses/http-v1-response.js';
import { mapHttpV2Result, type MappedResponse } from '../responses/http-v2-response.js';
import type { ApiDefinition, RouteDefinition } from '../routing/route-snapshot.js';
import type { LiveRoutes, RouteSync } from '../routing/route-sync.js';
import { newRequestId } from '../random-ids.js';
import { UpstreamError, type Upstream } from '../upstream/upstream.js';
import { applyCors, isPreflight, preflightHeaders, responseCorsHeaders } from './cors.js';
import { BodyTooLarge, clientIp, readBody } from './incoming.js';
import type { GatewayMetrics } from './gateway-metrics.js';
import { sendGatewayMessage, type GatewayMessage } from './gateway-responses.js';
import { RouteGuard } from './route-guard.js';
import { RoutedRequest, type Admitted } from './routed-request.js';

export interface RoutedHandlerDeps {
  readonly routes: Pick<RouteSync, 'current'>;
  readonly upstream: Upstream;
  readonly guard: RouteGuard;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
}

export interface RoutedHandlerOptions {
  readonly integrationTimeoutMs: number;
  readonly maxBodyBytes: number;
  /** One access-log line per this many requests (0: none); a 5xx is always logged. */
  readonly accessLogEvery?: number;
}

/** The access-log line's fields, filled in as the request moves along. */
interface AccessLog {
  requestId: string;
  method: string | undefined;
  path: string | undefined;
  route: string | undefined;
  invocationId: string | undefined;
  apiKeyId: string | undefined;
  reason: string | undefined;
}


const OPEN: Admitted = { authorizer: undefined, apiKey: undefined };

export function createRoutedHandler(deps: RoutedHandlerDeps, opts: RoutedHandlerOptions) {
  // A line per request would cost more than the rest of the gateway's work; counters go to /metrics.
  const every = opts.accessLogEvery ?? 0;
  let served = 0;
  return (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const startedNs = process.hrtime.bigint();
    const requestId = newRequestId();
    const log: AccessLog = { requestId, method: req.method, path: req.url, route: undefined, invocationId: undefined, apiKeyId: undefined, reason: undefined };
    let cors: [string, string][] = [];
    handle(deps, opts, req, res, log, (headers) => (cors = headers))
      .catch((e: unknown) => {
        if (!(e instanceof BodyTooLarge)) deps.logger.error({ err: e as Error, requestId }, 'routed request failed');
        if (res.headersSent) return res.statusCode;
        return sendGatewayMessage(res, e instanceof BodyTooLarge ? 'tooLarge' : 'internal', requestId, cors);
      })
      .then((status) => {
        const latencyMs = Number(process.hrtime.bigint() - startedNs) / 1e6;
        deps.metrics.requests.inc({ status: String(status) });
        deps.metrics.latency.observe(latencyMs / 1000);
        served = every > 0 ? (served + 1) % every : 0;
        if (status >= 500 || (every > 0 && served === 0)) deps.logger.info({ ...log, status, latencyMs: Math.round(latencyMs * 100) / 100 }, 'request');
      }, () => undefined);
  };
}

async function handle(
  deps: RoutedHandlerDeps,
  opts: RoutedHandlerOptions,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  log: AccessLog,
  setCors: (h: [string, string][]) => void,
): Promise<number> {
  const { requestId } = log;
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const fullPath = q < 0 ? url : url.slice(0, q);
  const method = req.method ?? 'GET';
  const live = deps.routes.current();
  const target = findApi(live.table, req.headers.host ?? '', fullPath);
  if (!target || target.api.protocol !== 'http') return sendGatewayMessage(res, 'notFound', requestId);
  const { api } = target;
  const origin = req.headers.origin;
  if (api.cors) {
    if (isPreflight(method, origin, headerValue(req.headers['access-control-request-method']))) {
      log.route = 'CORS preflight';
      return writeEmpty(res, 204, [...preflightHeaders(api.cors, origin), ['apigw-requestid', requestId]]);
    }
    setCors(responseCorsHeaders(api.cors, origin));
  }
  const reject = (which: GatewayMessage, extra: [string, string][] = []) =>
    sendGatewayMessage(res, which, requestId, [...extra, ...(api.cors ? responseCorsHeaders(api.cors, origin) : [])]);
  if (Number(req.headers['content-length'] ?? 0) > opts.maxBodyBytes) return reject('tooLarge');
  const match = live.table.match(api, method, target.path);
  if (!match) return reject('notFound');
  const { route } = match;
  log.route = route.routeKey;
  const request = new RoutedRequest({
    routeKey: route.routeKey,
    method,
    rawPath: target.path,
    rawQueryString: q < 0 ? '' : url.slice(q + 1),
    rawHeaders: req.rawHeaders,
    sourceIp: clientIp(req),
    httpVersion: req.httpVersion,
    apiId: api.id,
    domainName: req.headers.host ?? '',
    requestId,
    timeEpochMs: Date.now(),
    pathParameters: match.pathParameters,
    resource: route.routeKey === '$default' ? '$default' : route.routeKey.slice(route.routeKey.indexOf(' ') + 1),
    resourceId: route.id,
    requestPath: fullPath,
    deploymentId: String(live.table.revision),
  });
  let admitted = OPEN;
  if (!RouteGuard.isOpen(route)) {
    const apiKeyValue = headerValue(req.headers['x-api-key']);
    const outcome = await deps.guard.check({ api, route, method, path: target.path, apiKeyValue, apiKeys: live.apiKeys, identity: request.identity, v2Event: request.v2Event, v1Event: request.v1Event });
    if (outcome.kind === 'reject') {
      log.apiKeyId = outcome.apiKeyId;
      log.reason = outcome.reason;
      return reject(outcome.message, outcome.headers);
    }
    admitted = outcome;
    log.apiKeyId = outcome.apiKey?.id;
  }
  const raw = await readBody(req, opts.maxBodyBytes);
  const body = raw.length === 0 ? undefined : raw;
  const event = request.targetEvent(route.payloadFormatVersion, body, admitted);
  const mapped = await invoke(deps, opts, route, api, live, Buffer.from(JSON.stringify(event)), log);
  if (typeof mapped === 'string') return reject(mapped);
  return write(res, api.cors ? { ...mapped, headers: applyCors(mapped.headers, api.cors, origin) } : mapped, requestId);
}

async function invoke(
  deps: RoutedHandlerDeps,
  opts: RoutedHandlerOptions,
  route: RouteDefinition,
  api: ApiDefinition,
  live: LiveRoutes,
  payload: Buffer,
  log: AccessLog,
): Promise<MappedResponse | GatewayMessage> {
  const fnTimeout = live.functionTimeoutsMs.get(route.functionName);
  const timeoutMs = Math.min(opts.integrationTimeoutMs, fnTimeout === undefined ? Infinity : fnTimeout + 1_000);
  try {
    const result = await deps.upstream.invoke(route.functionName, payload, timeoutMs);
    log.invocationId = result.invocationId;
    const map = route.payloadFormatVersion === '1.0' ? mapHttpV1Result : mapHttpV2Result;
    return map({ payload: result.payload, functionError: result.functionError });
  } catch (e) {
    if (!(e instanceof UpstreamError)) throw e;
    if (e.kind === 'failed') deps.logger.warn({ err: e, requestId: log.requestId, api: api.name }, 'integration failed');
    return upstreamMessage(e);
  }
}

export function findApi(table: LiveRoutes['table'], host: string, fullPath: string): { api: ApiDefinition; path: string } | undefined {
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

function writeEmpty(res: http.ServerResponse, status: number, headers: [string, string][]): number {
  res.writeHead(status, headers.flat());
  res.end();
  return status;
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

