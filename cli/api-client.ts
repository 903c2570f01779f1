/**
 * The admin API over HTTP, as api.md gives it: bearer token, JSON bodies, errors in the
 * `{"error": {"type", "message"}}` shape turned into CliErrors that carry the type.
 */
import type { Connection } from './config-file.js';
import { CliError, EXIT } from './exit-codes.js';

export type UploadBody = NonNullable<RequestInit['body']>;

export interface RequestOptions {
  readonly json?: unknown;
  readonly body?: UploadBody;
  readonly headers?: Record<string, string>;
  readonly query?: Record<string, string | number | boolean | undefined>;
  readonly signal?: AbortSignal;
}

export class ApiClient {
  constructor(private readonly conn: Connection) {}

  get url(): string {
    return this.conn.url;
  }

  /** The raw response, whatever its status (the invoke and follow commands read it themselves). */
  async send(method: string, path: string, opts: RequestOptions = {}): Promise<Response> {
    const url = new URL(this.conn.url + path);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { authorization: `Bearer ${this.conn.token}`, ...opts.headers };
    let body = opts.body;
    if (opts.json !== undefined) {
      body = JSON.stringify(opts.json);
      headers['content-type'] = 'application/json';
    }
    const init: RequestInit & { duplex?: 'half' } = { method, headers };
    if (body !== undefined) init.body = body;
    // A streamed body (the upload progress) needs half duplex in Node's fetch.
    if (body instanceof ReadableStream) init.duplex = 'half';
    if (opts.signal !== undefined) init.signal = opts.signal;
    try {
      return await fetch(url, init);
    } catch (e) {
      if ((e as Error).name === 'AbortError') throw e;
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      throw new CliError(EXIT.server, `cannot reach ${this.conn.url}: ${cause?.code ?? cause?.message ?? (e as Error).message}`);
    }
  }

  /** A JSON answer, or the server's error as a CliError (204 gives undefined). */
  async call<T = unknown>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const res = await this.send(method, path, opts);
    if (!res.ok) throw await errorOf(res);
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new CliError(EXIT.server, `${method} ${path} answered ${res.status} with a body that is not JSON`);
    }
  }
}

/** api.md's error shape, read defensively: a proxy in between may answer anything. */
export async function errorOf(res: Response): Promise<CliError> {
  const text = await res.text().catch(() => '');
  let type: string | undefined;
  let message: string | undefined;
  try {
    const e = (JSON.parse(text) as { error?: { type?: unknown; message?: unknown } }).error;
    if (typeof e?.type === 'string') type = e.type;
    if (typeof e?.message === 'string') message = e.message;
  } catch {
    // Not api.md's shape: report the status.
  }
  const code = res.status === 401 || res.status === 403 ? EXIT.auth : EXIT.server;
  return new CliError(code, oneLine(message ?? `HTTP ${res.status} ${res.statusText}`), type ?? `HTTP ${res.status}`);
}

export function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim();
}
