/**
 * WebSocket APIs on the gateway's port (compat.md §6, api.md): the upgrade runs `$connect` while
 * the handshake is pending and opens the socket only if it succeeds; each message is routed by
 * the API's route selection expression and invoked; `$disconnect` runs exactly once when the
 * socket ends, however it ends. Connections are registered in Redis so `@connections` calls made
 * to any gateway reach them, and the limits of §6.5 are enforced here: message size (1009), idle
 * timeout and maximum duration (1001), a per-connection message rate, and a bounded send queue.
 *
 * On close (SIGTERM) the gateway stops accepting, closes every connection with 1001, runs their
 * `$disconnect`s, and removes itself from the registry. A gateway that dies without doing so is
 * noticed by the others once its heartbeat expires: one of them runs the `$disconnect`s.
 */
import { executeApiHost } from '../../common/execute-api-host.js';
import { clientIp } from '../http/incoming.js';
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from '../../common/logger.js';
import { compileRouteSelection, DEFAULT_ROUTE_SELECTION_EXPRESSION, type RouteSelector } from '../../common/route-selection.js';
import { RouteGuard } from '../http/route-guard.js';
import { findApi } from '../http/routed-handler.js';
import type { ApiDefinition, RouteDefinition } from '../routing/route-snapshot.js';
import type { LiveRoutes, RouteSync } from '../routing/route-sync.js';
import { UpstreamError, type Upstream, type UpstreamResult } from '../upstream/upstream.js';
import { newConnectionId, newRequestId } from './connection-ids.js';
import { expiryOf, type ConnectionLimits } from './connection-limits.js';
import type { ConnectionRecord, ConnectionRegistry } from './connection-registry.js';
import type { ConnectionOpRequest, OpResult } from './connection-relay.js';
import { admitConnect } from './connect-guard.js';
import { Connection } from './connection.js';
import { buildConnectEvent, buildDisconnectEvent, buildMessageEvent, disconnectReasonFor, type ConnectionContext } from './websocket-events.js';
import type { WebsocketMetrics } from './websocket-metrics.js';
import { connectOutcome, INTEGRATION_FAILURE_BODY, routeResponseOf } from './websocket-results.js';

export interface WebsocketGatewayDeps {
  readonly routes: Pick<RouteSync, 'current'>;
  readonly upstream: Upstream;
  readonly registry: ConnectionRegistry;
  readonly metrics: WebsocketMetrics;
  readonly logger: Logger;
  /** Checks `$connect` routes with an authorizer, an API key or a throttle; without it they are refused. */
  readonly guard?: Pick<RouteGuard, 'check'> | undefined;
}

export interface WebsocketGatewayOptions {
  /** This gateway process's id in the registry. */
  readonly gatewayId: string;
  /** For the `execute-api` domainName of connections on the shared host (default us-east-1). */
  readonly region?: string;
  readonly limits: ConnectionLimits;
  readonly maxMessageBytes: number;
  readonly integrationTimeoutMs: number;
  /** How often the registry heartbeat is written and dead gateways looked for. */
  readonly heartbeatIntervalMs: number;
  /** How long close() waits for the `$disconnect`s it started. */
  readonly shutdownGraceMs: number;
}

/** Connections of a dead gateway whose `$disconnect`s run at once. */
const REAP_CONCURRENCY = 8;
/** How often idle and over-age connections are looked for. */
const EXPIRY_SWEEP_MS = 1_000;
const API_GONE = { code: 1001, reason: 'Going away: the API was deleted' } as const;
/** RFC 6455 §4.1: a key is 16 random bytes in base64. */
const WEBSOCKET_KEY = /^[+/0-9A-Za-z]{22}==$/;

interface Held {
  readonly connection: Connection;
  readonly apiName: string;
}

export class WebsocketGateway {
  private readonly wss: WebSocketServer;
  private readonly held = new Map<string, Held>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly selectors = new WeakMap<ApiDefinition, RouteSelector | undefined>();
  /** The subprotocol `$connect` chose, read by ws while it completes the handshake. */
  private readonly protocols = new WeakMap<http.IncomingMessage, string>();
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;
  private reaping = false;

  constructor(
    private readonly deps: WebsocketGatewayDeps,
    private readonly opts: WebsocketGatewayOptions,
  ) {
    this.wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      maxPayload: opts.maxMessageBytes,
      handleProtocols: (_offered, req) => this.protocols.get(req) ?? false,
    });
  }

  async start(): Promise<void> {
    await this.deps.registry.heartbeat();
    this.heartbeatTimer = setInterval(() => void this.beat(), this.opts.heartbeatIntervalMs);
    this.heartbeatTimer.unref();
    this.sweepTimer = setInterval(() => this.expire(), EXPIRY_SWEEP_MS);
    this.sweepTimer.unref();
  }

  get connectionCount(): number {
    return this.held.size;
  }

  holds(connectionId: string): boolean {
    return this.held.has(connectionId);
  }

  /** The server's `upgrade` listener. */
  handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => undefined);
    this.upgrade(req, socket, head).catch((e: unknown) => {
      this.deps.logger.error({ err: e as Error }, 'websocket upgrade failed');
      rejectUpgrade(socket, 500, Buffer.from(JSON.stringify({ message: 'Internal Server Error' })));
    });
  }

  /** `@connections` on a connection this gateway holds (called locally or through the relay). */
  async local(req: ConnectionOpRequest): Promise<OpResult> {
    const held = this.held.get(req.connectionId);
    const conn = held?.connection;
    if (!conn || !conn.isOpen || conn.context.apiId !== req.apiId) return { status: 410 };
    switch (req.op) {
      case 'post':
        if (!conn.send(req.data ?? Buffer.alloc(0))) return { status: 410 };
        this.deps.metrics.messages.inc({ direction: 'out' });
        return { status: 200 };
      case 'get':
        return {
          status: 200,
          body: {
            connectedAt: new Date(conn.context.connectedAt).toISOString(),
            identity: { sourceIp: conn.context.sourceIp, ...(conn.context.userAgent === undefined ? {} : { userAgent: conn.context.userAgent }) },
            lastActiveAt: new Date(conn.lastActiveMs).toISOString(),
          },
        };
      case 'delete':
        conn.close(1000, 'Connection closed through @connections');
        return { status: 204 };
    }
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.heartbeatTimer);
      clearInterval(this.sweepTimer);
      for (const { connection } of this.held.values()) connection.close(1001, 'Going away');
      // Each close ends within Connection's close grace (the socket is then cut), and its
      // `$disconnect` is started from the close event.
      const deadline = Date.now() + this.opts.shutdownGraceMs;
      while (this.held.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      await this.settled(deadline);
      await this.deps.registry.forgetGateway(this.opts.gatewayId, false).catch((e: unknown) => this.deps.logger.warn({ err: e as Error }, 'websocket registry not cleaned up'));
      this.wss.close();
    })();
    return this.closing;
  }

  private async upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    if (this.closing) return rejectUpgrade(socket, 503, messageBody('Service Unavailable'));
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const live = this.deps.routes.current();
    const host = req.headers.host ?? '';
    const target = findApi(live.table, host, q < 0 ? url : url.slice(0, q));
    if (!target || target.api.protocol !== 'websocket' || target.path !== '/') return rejectUpgrade(socket, 404, messageBody('Not Found'));
    if (!isWebsocketHandshake(req)) return rejectUpgrade(socket, 400, messageBody('Bad Request'));
    const { api } = target;
    const connectedAt = Date.now();
    let context: ConnectionContext = {
      connectionId: newConnectionId(),
      connectedAt,
      apiId: api.id,
      // On the shared host the Host header names no API: the API's `execute-api` name does, so
      // `https://{domainName}/{stage}` reaches this API's `@connections` (connections-api.ts).
      domainName: host !== '' && live.table.findApiByHost(host) === api ? host : executeApiHost(api.id, this.opts.region ?? 'us-east-1'),
      sourceIp: clientIp(req),
      userAgent: req.headers['user-agent'],
    };
    const connectRoute = live.table.websocketRoute(api, '$connect');
    if (connectRoute) {
      const timing = { requestId: newRequestId(), requestTimeEpoch: connectedAt };
      const rawQuery = q < 0 ? '' : url.slice(q + 1);
      if (!RouteGuard.isOpen(connectRoute)) {
        // Fail closed: a guarded route is never served unguarded.
        if (!this.deps.guard) return rejectUpgrade(socket, 500, messageBody('Internal Server Error'));
        const admission = await admitConnect(this.deps.guard, live, api, connectRoute, buildConnectEvent(context, timing, req.rawHeaders, rawQuery));
        if (admission.kind === 'reject') return rejectUpgrade(socket, admission.status, admission.body);
        if (admission.authorizer) context = { ...context, authorizer: admission.authorizer };
      }
      const event = buildConnectEvent(context, timing, req.rawHeaders, rawQuery);
      const result = await this.invoke(connectRoute, live, event);
      if (result instanceof UpstreamError) return rejectUpgrade(socket, ...upstreamRejection(result));
      const outcome = connectOutcome(result.payload, result.functionError);
      if (!outcome.accept) return rejectUpgrade(socket, outcome.status, outcome.body, outcome.contentType);
      if (outcome.protocol !== undefined) this.protocols.set(req, outcome.protocol);
    }
    if (this.closing) return rejectUpgrade(socket, 503, messageBody('Service Unavailable'));
    // The client may have given up while `$connect` ran: it never connected, so no `$disconnect`.
    if (socket.destroyed || !socket.writable) return;
    try {
      await this.deps.registry.register(context.connectionId, recordOf(context, api.name));
    } catch (e) {
      this.deps.logger.warn({ err: e as Error }, 'websocket connection not registered');
      return rejectUpgrade(socket, 503, messageBody('Service Unavailable'));
    }
    let accepted = false;
    // close() may have begun while the registration was written: it would not see this one.
    if (this.closing) rejectUpgrade(socket, 503, messageBody('Service Unavailable'));
    else if (!socket.destroyed) {
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        accepted = true;
        this.accept(ws, context, api.name);
      });
    }
    if (!accepted) void this.deps.registry.deregister(context.connectionId).catch(() => undefined);
  }

  private accept(ws: WebSocket, context: ConnectionContext, apiName: string): void {
    const connection = new Connection(ws, context, this.opts.limits);
    this.held.set(context.connectionId, { connection, apiName });
    this.deps.metrics.connections.inc();
    this.deps.logger.info({ connectionId: context.connectionId, api: apiName, sourceIp: context.sourceIp }, 'websocket connected');
    // ws has already sent the close frame; its 'close' event will report 1006 as the client's
    // answer is no longer read, so the code ws closed with is recorded here.
    ws.on('error', (e: Error & { code?: string }) => connection.closedByProtocol(closeCodeOf(e.code), e.message));
    ws.on('ping', () => connection.touch(Date.now()));
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      // ws calls this from its socket's data handler: a throw here would end the process.
      try {
        this.onMessage(connection, apiName, data, isBinary);
      } catch (e) {
        this.deps.logger.error({ err: e as Error, connectionId: connection.id }, 'websocket message failed');
        connection.send(JSON.stringify({ message: 'Internal server error', connectionId: connection.id, requestId: newRequestId() }));
      }
    });
    ws.on('close', (code: number, reason: Buffer) => this.onClose(connection, apiName, code, reason.toString('utf8')));
  }

  private onMessage(conn: Connection, apiName: string, data: Buffer, isBinary: boolean): void {
    const now = Date.now();
    conn.touch(now);
    this.deps.metrics.messages.inc({ direction: 'in' });
    const requestId = newRequestId();
    const errorFrame = (message: string) => conn.send(JSON.stringify({ message, connectionId: conn.id, requestId }));
    if (!conn.admit(now)) {
      errorFrame('Too Many Requests');
      return;
    }
    const live = this.deps.routes.current();
    const api = live.table.findApiByName(apiName);
    const route = api && api.id === conn.context.apiId ? this.selectRoute(live, api, data, isBinary) : undefined;
    if (!route) {
      errorFrame('Forbidden');
      return;
    }
    const event = buildMessageEvent(conn.context, { requestId, requestTimeEpoch: now }, route.routeKey, newRequestId(), data, isBinary);
    this.track(
      this.invoke(route, live, event).then((result) => {
        if (result instanceof UpstreamError || result.functionError) {
          errorFrame(result instanceof UpstreamError && result.kind === 'timeout' ? 'Endpoint request timed out' : 'Internal server error');
          return;
        }
        if (route.routeResponseSelectionExpression !== '$default') return;
        const frame = routeResponseOf(result.payload);
        if (frame !== undefined && conn.send(frame)) this.deps.metrics.messages.inc({ direction: 'out' });
      }),
    );
  }

  /** compat.md §6.1: the exact key, else `$default` (also for text that is not JSON). */
  private selectRoute(live: LiveRoutes, api: ApiDefinition, data: Buffer, isBinary: boolean): RouteDefinition | undefined {
    const selector = this.selectorFor(api);
    const key = isBinary || !selector ? undefined : selector.select(data.toString('utf8'));
    const chosen = key === undefined || key === '' || key === '$connect' || key === '$disconnect' ? undefined : live.table.websocketRoute(api, key);
    return chosen ?? live.table.websocketRoute(api, '$default');
  }

  private selectorFor(api: ApiDefinition): RouteSelector | undefined {
    if (this.selectors.has(api)) return this.selectors.get(api);
    const compiled = compileRouteSelection(api.routeSelectionExpression ?? DEFAULT_ROUTE_SELECTION_EXPRESSION);
    const selector = compiled.ok ? compiled.selector : undefined;
    this.selectors.set(api, selector);
    return selector;
  }

  private onClose(conn: Connection, apiName: string, code: number, reason: string): void {
    if (conn.ended) return;
    conn.ended = true;
    this.held.delete(conn.id);
    this.deps.metrics.connections.dec();
    const statusCode = conn.closedBy?.code ?? code;
    this.deps.metrics.closes.inc({ code: String(statusCode) });
    const durationMs = Date.now() - conn.context.connectedAt;
    this.deps.logger.info({ connectionId: conn.id, api: apiName, code: statusCode, by: conn.closedBy ? 'gateway' : 'client', durationMs }, 'websocket disconnected');
    this.track(this.deps.registry.deregister(conn.id).catch((e: unknown) => this.deps.logger.warn({ err: e as Error }, 'websocket connection not deregistered')));
    this.track(this.runDisconnect(conn.context, apiName, statusCode, disconnectReasonFor(statusCode, conn.closedBy?.reason ?? reason)));
  }

  /** Best effort, after the close; the result is ignored (compat.md §6.3). */
  private async runDisconnect(context: ConnectionContext, apiName: string, statusCode: number, reason: string): Promise<void> {
    const live = this.deps.routes.current();
    const api = live.table.findApiByName(apiName);
    if (!api || api.id !== context.apiId) return;
    const route = live.table.websocketRoute(api, '$disconnect');
    if (!route) return;
    const event = buildDisconnectEvent(context, { requestId: newRequestId(), requestTimeEpoch: Date.now() }, statusCode, reason);
    const result = await this.invoke(route, live, event);
    if (result instanceof UpstreamError) this.deps.logger.warn({ err: result, connectionId: context.connectionId }, '$disconnect failed');
  }

  private async invoke(route: RouteDefinition, live: LiveRoutes, event: unknown): Promise<UpstreamResult | UpstreamError> {
    const fnTimeout = live.functionTimeoutsMs.get(route.functionName);
    const timeoutMs = Math.min(this.opts.integrationTimeoutMs, fnTimeout === undefined ? Infinity : fnTimeout + 1_000);
    try {
      return await this.deps.upstream.invoke(route.functionName, Buffer.from(JSON.stringify(event)), timeoutMs, 'websocket');
    } catch (e) {
      if (e instanceof UpstreamError) return e;
      this.deps.logger.error({ err: e as Error, route: route.routeKey }, 'websocket integration failed');
      return new UpstreamError('failed', (e as Error).message);
    }
  }

  private expire(): void {
    const now = Date.now();
    const table = this.deps.routes.current().table;
    for (const { connection, apiName } of this.held.values()) {
      // A deleted API takes its connections with it, as in API Gateway.
      const expiry = table.findApiByName(apiName)?.id === connection.context.apiId ? expiryOf(this.opts.limits, connection.context.connectedAt, connection.lastActiveMs, now) : API_GONE;
      if (expiry) connection.close(expiry.code, expiry.reason);
    }
  }

  private async beat(): Promise<void> {
    try {
      const wasAlive = await this.deps.registry.heartbeat();
      // Redis lost us for longer than the TTL (an outage, a partition): another gateway may have
      // reaped our connections, so they are registered again.
      if (!wasAlive) await this.reregister();
    } catch (e) {
      this.deps.logger.warn({ err: e as Error }, 'websocket registry heartbeat failed');
      return;
    }
    if (this.reaping) return;
    this.reaping = true;
    try {
      await this.reapDeadGateways();
    } catch (e) {
      this.deps.logger.warn({ err: e as Error }, 'dead gateways not cleaned up');
    } finally {
      this.reaping = false;
    }
  }

  private async reregister(): Promise<void> {
    const entries = [...this.held.values()].map(({ connection, apiName }): [string, ConnectionRecord] => [connection.id, recordOf(connection.context, apiName)]);
    if (entries.length === 0) return;
    this.deps.logger.warn({ connections: entries.length }, 'heartbeat had expired; registering connections again');
    await this.deps.registry.registerAll(entries);
  }

  /** Runs the `$disconnect`s of gateways that died without running them, then forgets them. */
  private async reapDeadGateways(): Promise<void> {
    for (const gatewayId of await this.deps.registry.claimDeadGateways()) {
      const records = [...(await this.deps.registry.connectionsOf(gatewayId))];
      this.deps.logger.info({ gatewayId, connections: records.length }, 'running $disconnect for a dead gateway');
      for (let i = 0; i < records.length; i += REAP_CONCURRENCY) {
        await Promise.all(
          records.slice(i, i + REAP_CONCURRENCY).map(([connectionId, r]) =>
            this.runDisconnect({ connectionId, connectedAt: r.connectedAt, apiId: r.apiId, domainName: r.domainName, sourceIp: r.sourceIp, userAgent: r.userAgent }, r.apiName, 1006, disconnectReasonFor(1006, '')),
          ),
        );
      }
      await this.deps.registry.forgetGateway(gatewayId, true);
    }
  }

  private track(p: Promise<unknown>): void {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p)).catch(() => undefined);
  }

  private async settled(deadlineMs: number): Promise<void> {
    while (this.inFlight.size > 0 && Date.now() < deadlineMs) {
      await Promise.race([Promise.allSettled([...this.inFlight]), new Promise((r) => setTimeout(r, Math.max(0, deadlineMs - Date.now())).unref())]);
    }
  }
}

/** What another gateway needs to run this connection's `$disconnect` if this one dies. */
function recordOf(c: ConnectionContext, apiName: string): ConnectionRecord {
  return { apiId: c.apiId, apiName, connectedAt: c.connectedAt, domainName: c.domainName, sourceIp: c.sourceIp, userAgent: c.userAgent };
}

/** The close code ws sends for a receive error (RFC 6455 §7.4.1). */
function closeCodeOf(code: string | undefined): number {
  if (code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') return 1009;
  if (code === 'WS_ERR_INVALID_UTF8') return 1007;
  return 1002;
}

function isWebsocketHandshake(req: http.IncomingMessage): boolean {
  const version = req.headers['sec-websocket-version'];
  return (
    req.method === 'GET' &&
    (req.headers.upgrade ?? '').toLowerCase() === 'websocket' &&
    WEBSOCKET_KEY.test((req.headers['sec-websocket-key'] ?? '').trim()) &&
    (version === '13' || version === '8')
  );
}

function upstreamRejection(e: UpstreamError): [number, Buffer] {
  switch (e.kind) {
    case 'timeout':
      return [504, messageBody('Endpoint request timed out')];
    case 'throttled':
      return [429, messageBody('Too Many Requests')];
    case 'unavailable':
      return [503, messageBody('Service Unavailable')];
    case 'not-found':
    case 'failed':
      return [502, Buffer.from(INTEGRATION_FAILURE_BODY)];
  }
}

function messageBody(message: string): Buffer {
  return Buffer.from(JSON.stringify({ message }));
}

/** Answers the pending upgrade with a plain HTTP response and closes the socket. */
function rejectUpgrade(socket: Duplex, status: number, body: Buffer, contentType = 'application/json'): void {
  if (socket.destroyed || !socket.writable) {
    socket.destroy();
    return;
  }
  const head =
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? 'Error'}\r\n` +
    `Content-Type: ${contentType}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`;
  socket.end(Buffer.concat([Buffer.from(head, 'latin1'), body]));
}

