/**
 * Upstream over HTTP to a control plane's invoke endpoint, on an undici keep-alive pool (one
 * connection per concurrent invocation, reused; no per-request handshake).
 */
import { Pool, errors as undiciErrors } from 'undici';
import { UpstreamError, type Upstream, type UpstreamResult } from './upstream.js';

export interface RemoteUpstreamOptions {
  readonly controlPlaneUrl: string;
  readonly internalToken: string;
  readonly connections: number;
}

export class RemoteUpstream implements Upstream {
  private readonly pool: Pool;
  private readonly authorization: string;

  constructor(opts: RemoteUpstreamOptions) {
    this.pool = new Pool(opts.controlPlaneUrl, { connections: opts.connections, keepAliveTimeout: 60_000, pipelining: 1 });
    this.authorization = `Bearer ${opts.internalToken}`;
  }

  async invoke(functionName: string, payload: Buffer, timeoutMs: number): Promise<UpstreamResult> {
    let res;
    try {
      res = await this.pool.request({
        method: 'POST',
        path: `/v1/functions/${encodeURIComponent(functionName)}/invoke`,
        headers: { authorization: this.authorization, 'content-type': 'application/json' },
        body: payload,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
    } catch (e) {
      throw translate(e);
    }
    const body = Buffer.from(await res.body.arrayBuffer().catch((e: unknown) => {
      throw translate(e);
    }));
    if (res.statusCode === 200) {
      return {
        functionError: res.headers['x-gantry-function-error'] !== undefined,
        payload: body,
        invocationId: headerValue(res.headers['x-gantry-invocation-id']),
      };
    }
    throw new UpstreamError(kindFor(res.statusCode), `control plane answered ${res.statusCode}: ${body.toString('utf8').slice(0, 200)}`);
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}

function kindFor(status: number): UpstreamError['kind'] {
  if (status === 429) return 'throttled';
  if (status === 404) return 'not-found';
  if (status === 503) return 'unavailable';
  if (status === 504) return 'timeout';
  return 'failed';
}

function translate(e: unknown): UpstreamError {
  if (e instanceof undiciErrors.HeadersTimeoutError || e instanceof undiciErrors.BodyTimeoutError) {
    return new UpstreamError('timeout', 'integration timed out', { cause: e });
  }
  const code = (e as { code?: string }).code;
  if (code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || code === 'ENOTFOUND') {
    return new UpstreamError('unavailable', 'control plane unreachable', { cause: e });
  }
  return new UpstreamError('failed', (e as Error).message ?? 'upstream failed', { cause: e });
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
