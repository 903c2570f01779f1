/**
 * API Gateway's own answers for routed traffic (compat.md §3.2, §7, §8; api.md): `{"message": …}`
 * bodies, never Gantry's admin error envelope.
 */
import http from 'node:http';
import type { ErrorBody } from '../../common/http-boundary.js';

export const GATEWAY_MESSAGES = {
  unauthorized: [401, 'Unauthorized'],
  forbidden: [403, 'Forbidden'],
  notFound: [404, 'Not Found'],
  tooLarge: [413, 'Request Entity Too Large'],
  throttled: [429, 'Too Many Requests'],
  limitExceeded: [429, 'Limit Exceeded'],
  internal: [500, 'Internal Server Error'],
  unavailable: [503, 'Service Unavailable'],
  timedOut: [504, 'Endpoint request timed out'],
} as const satisfies Record<string, readonly [number, string]>;

export type GatewayMessage = keyof typeof GATEWAY_MESSAGES;

export function sendGatewayMessage(res: http.ServerResponse, which: GatewayMessage, requestId: string, extraHeaders: readonly [string, string][] = []): number {
  const [status, message] = GATEWAY_MESSAGES[which];
  const body = JSON.stringify({ message });
  const headers: string[] = ['content-type', 'application/json', 'content-length', String(Buffer.byteLength(body)), 'apigw-requestid', requestId];
  for (const [name, value] of extraHeaders) headers.push(name, value);
  res.writeHead(status, headers);
  res.end(body);
  return status;
}

/** The same family for what the gateway's server answers by itself (a refused request, a 500). */
export const gatewayErrorBody: ErrorBody = (status) => ({
  contentType: 'application/json',
  text: JSON.stringify({ message: status === 500 ? GATEWAY_MESSAGES.internal[1] : (http.STATUS_CODES[status] ?? 'Bad Request') }),
});
