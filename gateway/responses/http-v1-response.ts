/**
 * Maps a function's result to the HTTP response of a payload-format-1.0 route (compat.md §4.2).
 *
 * Promises: never throws. Every field is optional (no `statusCode` is 200; a numeric string is
 * accepted). Anything else is malformed and becomes `502 {"message": "Internal server error"}`,
 * exactly as API Gateway answers (note the lower-case "server error", unlike format 2.0): a
 * function error, a payload that is not JSON or not an object, an unknown top-level key, a
 * non-numeric `statusCode`, a header value that is an object, a `multiValueHeaders` entry that is
 * not a list, a `body` that is not a string. `headers` and `multiValueHeaders` are both sent,
 * multi-value lines first, an identical name/value pair once. `isBase64Encoded: true` decodes
 * the body: HTTP APIs need no binary media types for that (compat.md §3.2).
 * Pure: `apigw-requestid` and CORS headers are the caller's to add.
 */
import { headerLines, isJsonObject, JSON_CONTENT_TYPE, type HttpV2InvokeResult, type MappedResponse } from './http-v2-response.js';

const ALLOWED_KEYS: ReadonlySet<string> = new Set(['statusCode', 'headers', 'multiValueHeaders', 'body', 'isBase64Encoded']);

export function mapHttpV1Result(result: HttpV2InvokeResult): MappedResponse {
  if (result.functionError) return malformed();
  let value: unknown;
  try {
    value = JSON.parse(result.payload.toString('utf8'));
  } catch {
    return malformed();
  }
  if (!isJsonObject(value) || Object.keys(value).some((k) => !ALLOWED_KEYS.has(k))) return malformed();
  const statusCode = statusCodeOf(value['statusCode']);
  const headers = headerLines(value['multiValueHeaders'], value['headers']);
  const isBase64Encoded = value['isBase64Encoded'];
  const body = value['body'];
  const okBase64 = isBase64Encoded === undefined || isBase64Encoded === null || typeof isBase64Encoded === 'boolean';
  const okBody = body === undefined || body === null || typeof body === 'string';
  if (statusCode === undefined || !headers || !okBase64 || !okBody) return malformed();
  if (!headers.some(([name]) => name.toLowerCase() === 'content-type')) headers.push([...JSON_CONTENT_TYPE]);
  const bytes = typeof body === 'string' ? Buffer.from(body, isBase64Encoded === true ? 'base64' : 'utf8') : Buffer.alloc(0);
  return { statusCode, headers, body: bytes };
}

/** Absent is 200; an integer or a numeric string (`"201"`) in 200–599; anything else malformed. */
function statusCodeOf(raw: unknown): number | undefined {
  if (raw === undefined || raw === null) return 200;
  const n = typeof raw === 'string' && /^\d{3}$/.test(raw) ? Number(raw) : raw;
  return typeof n === 'number' && Number.isInteger(n) && n >= 200 && n <= 599 ? n : undefined;
}

function malformed(): MappedResponse {
  return { statusCode: 502, headers: [[...JSON_CONTENT_TYPE]], body: Buffer.from('{"message": "Internal server error"}', 'utf8') };
}
