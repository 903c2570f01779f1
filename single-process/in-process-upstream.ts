/**
 * Upstream that calls the invoker directly, for `npm start` where the gateway and the control
 * plane share one process: the only hop left is process → container socket.
 */
import { GantryError } from '../common/errors.js';
import type { Invoker } from '../control-plane/invocation/invoker.js';
import { DEFAULT_TENANT } from '../control-plane/functions/function-types.js';
import { UpstreamError, type Upstream, type UpstreamResult, type UpstreamSource } from '../gateway/upstream/upstream.js';

export class InProcessUpstream implements Upstream {
  constructor(private readonly invoker: Invoker) {}

  async invoke(functionName: string, payload: Buffer, timeoutMs: number, source: UpstreamSource = 'gateway'): Promise<UpstreamResult> {
    const run = this.invoker.invoke({ tenantId: DEFAULT_TENANT, functionName, payload: payload.length === 0 ? Buffer.from('{}') : payload, source });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new UpstreamError('timeout', 'integration timed out')), timeoutMs);
    });
    // The invocation runs on after a timeout and is metered; its late result is dropped here.
    run.catch(() => undefined);
    try {
      const r = await Promise.race([run, timeout]);
      return { functionError: r.status === 'failed', payload: r.payload, invocationId: r.invocationId };
    } catch (e) {
      if (e instanceof UpstreamError) throw e;
      throw translate(e);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    // The invoker belongs to the control plane, which closes it.
  }
}

function translate(e: unknown): UpstreamError {
  if (e instanceof GantryError) {
    switch (e.type) {
      case 'TooManyRequests':
        return new UpstreamError('throttled', e.message, { cause: e });
      case 'ResourceNotFound':
        return new UpstreamError('not-found', e.message, { cause: e });
      case 'ServiceUnavailable':
        return new UpstreamError('unavailable', e.message, { cause: e });
      case 'Timeout':
        return new UpstreamError('timeout', e.message, { cause: e });
      default:
        return new UpstreamError('failed', e.message, { cause: e });
    }
  }
  return new UpstreamError('failed', (e as Error).message, { cause: e });
}
