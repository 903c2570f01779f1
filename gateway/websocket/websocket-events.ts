/**
 * The Lambda proxy events of WebSocket APIs (compat.md §6.2): `$connect` with the upgrade
 * request's headers and query string, messages with the frame's text (or base64 of a binary
 * frame, api.md), `$disconnect` with the close code and reason and API Gateway's placeholder
 * headers. Pure.
 */
import { formatClfTime } from '../events/clf-time.js';
import { parseQueryValues } from '../events/query-string.js';

/** What every event of one connection shares, fixed at the handshake. */
export interface ConnectionContext {
  readonly connectionId: string;
  readonly connectedAt: number;
  readonly apiId: string;
  readonly domainName: string;
  readonly sourceIp: string;
  readonly userAgent: string | undefined;
  /** The `$connect` authorizer's `principalId` and context, repeated on every event. */
  readonly authorizer?: Readonly<Record<string, unknown>> | undefined;
}

export interface EventTiming {
  readonly requestId: string;
  readonly requestTimeEpoch: number;
}

export type WebsocketEventType = 'CONNECT' | 'MESSAGE' | 'DISCONNECT';

export interface WebsocketRequestContext {
  readonly routeKey: string;
  readonly eventType: WebsocketEventType;
  readonly messageId?: string;
  readonly disconnectStatusCode?: number;
  readonly disconnectReason?: string;
  readonly extendedRequestId: string;
  readonly requestTime: string;
  readonly messageDirection: 'IN';
  readonly stage: string;
  readonly connectedAt: number;
  readonly requestTimeEpoch: number;
  readonly identity: { readonly sourceIp: string; readonly userAgent?: string };
  readonly requestId: string;
  readonly domainName: string;
  readonly connectionId: string;
  readonly apiId: string;
  readonly authorizer?: Readonly<Record<string, unknown>>;
}

export interface ConnectEvent {
  readonly headers: Record<string, string>;
  readonly multiValueHeaders: Record<string, string[]>;
  readonly queryStringParameters?: Record<string, string>;
  readonly multiValueQueryStringParameters?: Record<string, string[]>;
  readonly requestContext: WebsocketRequestContext;
  readonly isBase64Encoded: false;
}

export interface MessageEvent {
  readonly requestContext: WebsocketRequestContext;
  readonly body: string;
  readonly isBase64Encoded: boolean;
}

export interface DisconnectEvent {
  readonly headers: Record<string, string>;
  readonly multiValueHeaders: Record<string, string[]>;
  readonly requestContext: WebsocketRequestContext;
  readonly isBase64Encoded: false;
}

/** Routed events of Gantry always run on the `$default` stage (api.md). */
const STAGE = '$default';

export function buildConnectEvent(c: ConnectionContext, t: EventTiming, rawHeaders: readonly string[], rawQueryString: string): ConnectEvent {
  const { headers, multiValueHeaders } = collectHeaders(rawHeaders);
  const query = parseQueryValues(rawQueryString);
  return {
    headers,
    multiValueHeaders,
    ...(query.size === 0
      ? {}
      : {
          queryStringParameters: Object.fromEntries([...query].map(([k, v]) => [k, v[v.length - 1] ?? ''])),
          multiValueQueryStringParameters: Object.fromEntries(query),
        }),
    requestContext: requestContext(c, t, '$connect', 'CONNECT'),
    isBase64Encoded: false,
  };
}

/** `messageId` is the frame's own id; `data` is text, or the bytes of a binary frame. */
export function buildMessageEvent(c: ConnectionContext, t: EventTiming, routeKey: string, messageId: string, data: Buffer, isBinary: boolean): MessageEvent {
  return {
    requestContext: requestContext(c, t, routeKey, 'MESSAGE', { messageId }),
    body: isBinary ? data.toString('base64') : data.toString('utf8'),
    isBase64Encoded: isBinary,
  };
}

export function buildDisconnectEvent(c: ConnectionContext, t: EventTiming, statusCode: number, reason: string): DisconnectEvent {
  // API Gateway's placeholders: no request is in progress when a connection ends.
  const headers: Record<string, string> = { Host: c.domainName, 'x-api-key': '', 'X-Forwarded-For': '', 'x-restapi': '' };
  return {
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    requestContext: requestContext(c, t, '$disconnect', 'DISCONNECT', { disconnectStatusCode: statusCode, disconnectReason: reason }),
    isBase64Encoded: false,
  };
}

/** The reason API Gateway reports for a close code (compat.md §6.2's 1005 text; the rest by RFC 6455). */
export function disconnectReasonFor(code: number, reason: string): string {
  if (reason !== '') return reason;
  switch (code) {
    case 1005:
      return 'Client-side close frame status not set';
    case 1006:
      return 'Connection closed abnormally';
    default:
      return '';
  }
}

function requestContext(
  c: ConnectionContext,
  t: EventTiming,
  routeKey: string,
  eventType: WebsocketEventType,
  extra: Pick<WebsocketRequestContext, 'messageId' | 'disconnectStatusCode' | 'disconnectReason'> = {},
): WebsocketRequestContext {
  return {
    routeKey,
    ...(c.authorizer ? { authorizer: c.authorizer } : {}),
    ...extra,
    eventType,
    extendedRequestId: t.requestId,
    requestTime: formatClfTime(t.requestTimeEpoch),
    messageDirection: 'IN',
    stage: STAGE,
    connectedAt: c.connectedAt,
    requestTimeEpoch: t.requestTimeEpoch,
    identity: c.userAgent === undefined ? { sourceIp: c.sourceIp } : { sourceIp: c.sourceIp, userAgent: c.userAgent },
    requestId: t.requestId,
    domainName: c.domainName,
    connectionId: c.connectionId,
    apiId: c.apiId,
  };
}

/** Names as the client sent them (API Gateway keeps WebSocket header case); `headers` keeps the last value. */
function collectHeaders(rawHeaders: readonly string[]): { headers: Record<string, string>; multiValueHeaders: Record<string, string[]> } {
  const all = new Map<string, string[]>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] ?? '';
    const list = all.get(name);
    if (list) list.push(rawHeaders[i + 1] ?? '');
    else all.set(name, [rawHeaders[i + 1] ?? '']);
  }
  return {
    headers: Object.fromEntries([...all].map(([k, v]) => [k, v[v.length - 1] ?? ''])),
    multiValueHeaders: Object.fromEntries(all),
  };
}
