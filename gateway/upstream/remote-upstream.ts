/**
 * Upstream over HTTP to the control planes' invoke endpoint, on one undici keep-alive pool per
 * node (one connection per concurrent invocation, reused; no per-request handshake). A function's
 * invocations go to its home node (node-directory.ts). Another node is tried only when the call
 * provably did not run: the home node refused the connection, or answered 429 because the node
 * itself is full (not because the function is at its reserved concurrency), so nothing is ever
 * run twice.
 */
import { Pool, errors as undiciErrors } from 'undici';
import type { NodeRecord } from '../../common/cluster-nodes.js';
import { INVOCATION_SOURCE_HEADER, splitQualifiedName, THROTTLE_REASON_HEADER, THROTTLE_REASONS } from '../../common/invoke-protocol.js';
import { UpstreamError, type Upstream, type UpstreamResult, type UpstreamSource } from './upstream.js';

export interface RemoteUpstreamOptions {
  readonly internalToken: string;
  readonly connections: number;
}

/** Where the nodes are: the directory (node-directory.ts) or a fixed list. */
export interface NodeSource {
  homeFor(functionName: string): NodeRecord;
  fallbacksFor(home: NodeRecord): readonly NodeRecord[];
}

/** Nodes tried per invocation at most (the home node and two others). */
const MAX_NODES_TRIED = 3;

export class RemoteUpstream implements Upstream {
  private readonly pools = new Map<string, Pool>();
  private readonly authorization: string;

  constructor(
    private readonly nodes: NodeSource,
    private readonly opts: RemoteUpstreamOptions,
  ) {
    this.authorization = `Bearer ${opts.internalToken}`;
  }

  async invoke(functionName: string, payload: Buffer, timeoutMs: number, source: UpstreamSource = 'gateway'): Promise<UpstreamResult> {
    const home = this.nodes.homeFor(splitQualifiedName(functionName).name);
    const first = await this.invokeOn(home, functionName, payload, timeoutMs, source);
    if (first.kind === 'done') return first.result;
    let last = first.error;
    for (const node of this.nodes.fallbacksFor(home).slice(0, MAX_NODES_TRIED - 1)) {
      const next = await this.invokeOn(node, functionName, payload, timeoutMs, source);
      if (next.kind === 'done') return next.result;
      last = next.error;
    }
    throw last;
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.pools.values()].map((p) => p.close()));
    this.pools.clear();
  }

  /** `retry` means the node did not run it (refused the connection, or is full). */
  private async invokeOn(
    node: NodeRecord,
    functionName: string,
    payload: Buffer,
    timeoutMs: number,
    source: UpstreamSource,
  ): Promise<{ kind: 'done'; result: UpstreamResult } | { kind: 'retry'; error: UpstreamError }> {
    let res;
    try {
      res = await this.poolFor(node.url).request({
        method: 'POST',
        path: `/v1/functions/${encodeURIComponent(functionName)}/invoke`,
        headers: { authorization: this.authorization, 'content-type': 'application/json', ...(source === 'gateway' ? {} : { [INVOCATION_SOURCE_HEADER]: source }) },
        body: payload,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
    } catch (e) {
      const error = translate(e);
      if ((e as { code?: string }).code === 'ECONNREFUSED') return { kind: 'retry', error };
      throw error;
    }
    const body = Buffer.from(await res.body.arrayBuffer().catch((e: unknown) => {
      throw translate(e);
    }));
    if (res.statusCode === 200) {
      return {
        kind: 'done',
        result: {
          functionError: res.headers['x-gantry-function-error'] !== undefined,
          payload: body,
          invocationId: headerValue(res.headers['x-gantry-invocation-id']),
        },
      };
    }
    const error = new UpstreamError(kindFor(res.statusCode), `control plane answered ${res.statusCode}: ${body.toString('utf8').slice(0, 200)}`);
    if (res.statusCode === 429 && headerValue(res.headers[THROTTLE_REASON_HEADER]) === THROTTLE_REASONS.nodeFull) return { kind: 'retry', error };
    throw error;
  }

  private poolFor(url: string): Pool {
    let pool = this.pools.get(url);
    if (!pool) {
      pool = new Pool(url, { connections: this.opts.connections, keepAliveTimeout: 60_000, pipelining: 1 });
      this.pools.set(url, pool);
    }
    return pool;
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
