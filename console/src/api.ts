/**
 * The console's only way to Gantry: the documented admin API over HTTP, on the origin that served
 * the page, with the token the user signed in with. Every failure becomes an ApiError carrying
 * api.md's error type and message, so views can show exactly what the server said.
 */

const TOKEN_KEY = 'gantry.token';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

export const token = {
  get: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  set: (t: string) => sessionStorage.setItem(TOKEN_KEY, t),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

export async function errorOf(res: Response): Promise<ApiError> {
  const text = await res.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { error?: { type?: unknown; message?: unknown } };
    if (body.error && typeof body.error.type === 'string' && typeof body.error.message === 'string') {
      return new ApiError(res.status, body.error.type, body.error.message);
    }
  } catch {
    // not api.md's shape: fall through and show what came back
  }
  return new ApiError(res.status, `HTTP ${res.status}`, text.slice(0, 500) || res.statusText);
}

export interface RawResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

/** One call; `body` is sent as it is when it is a string or bytes, else as JSON. */
export async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<Response> {
  const t = token.get();
  const h: Record<string, string> = { ...headers };
  if (t !== null) h['authorization'] = `Bearer ${t}`;
  let payload: BodyInit | undefined;
  if (body instanceof Blob || typeof body === 'string') payload = body;
  else if (body !== undefined) {
    payload = JSON.stringify(body);
    h['content-type'] ??= 'application/json';
  }
  let res: Response;
  try {
    res = await fetch(path, { method, headers: h, ...(payload === undefined ? {} : { body: payload }), ...(signal === undefined ? {} : { signal }) });
  } catch (e) {
    if (signal?.aborted === true) throw e;
    throw new ApiError(0, 'NetworkError', `The control plane did not answer (${String(e)}).`);
  }
  return res;
}

export async function json<T>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<T> {
  const res = await call(method, path, body, headers);
  if (!res.ok) throw await errorOf(res);
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

/** For the invoke box: a function's failure is a result to show, not an error. */
export async function raw(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<RawResponse> {
  const res = await call(method, path, body, headers);
  if (res.status >= 400 && res.headers.get('x-gantry-function-error') === null) throw await errorOf(res);
  return { status: res.status, headers: res.headers, text: await res.text() };
}

export const enc = encodeURIComponent;

export interface FunctionConfig {
  name: string;
  runtime: string;
  handler: string;
  memoryMb: number;
  timeoutMs: number;
  environment: Record<string, string>;
  network: string;
  codeSha256: string;
  codeSize: number;
  createdAt: string;
  updatedAt: string;
  reservedConcurrency: number | null;
  provisionedConcurrency: number | null;
  [more: string]: unknown;
}

export interface Invocation {
  id: string;
  attempt: number;
  startedAt: string;
  durationMs: number;
  initDurationMs: number;
  billedDurationMs: number;
  memoryMb: number;
  coldStart: boolean;
  coldStartKind: string | null;
  source: string;
  status: string;
  errorType: string | null;
}

export interface LogLine {
  invocationId: string;
  time: string;
  stream: string;
  message: string;
}

export interface UsageRow {
  key: string;
  requests: number;
  billedMs: number;
  gbSeconds: string;
  cost: string;
  rejected: { throttled: number; unavailable: number; initFailed: number };
}

export interface Usage {
  rows: UsageRow[];
  currency: string;
  from: string;
  to: string;
  groupBy: string;
}

export interface DeadLetter {
  id: string;
  event: unknown;
  error: unknown;
  attempts: number;
  failedAt: string;
}

export interface Api {
  name: string;
  protocol: string;
  [more: string]: unknown;
}

export interface Route {
  id: string;
  routeKey: string;
  function: string;
  [more: string]: unknown;
}

/** A file as base64, for `code.zipBase64`. */
export async function fileToBase64(file: Blob): Promise<string> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let binary = '';
  const CHUNK = 0x8000;
  for (let i = 0; i < bytes.length; i += CHUNK) binary += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  return btoa(binary);
}

/** `X-Gantry-Log-Result` is base64 of UTF-8 text. */
export function decodeBase64Text(b64: string): string {
  const binary = atob(b64);
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}
