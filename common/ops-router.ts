/** `/healthz`, `/readyz` and `/metrics`: unauthenticated, on every process (api.md). */
import { Router } from 'express';
import type { Registry } from 'prom-client';

export type ReadinessChecks = () => Promise<Record<string, boolean>>;

/** Facts shown beside the checks in /readyz that do not make a process unready. */
export type ReadinessFacts = () => Record<string, unknown>;

export function opsRouter(checks: ReadinessChecks, registry: Registry, facts?: ReadinessFacts): Router {
  const r = Router();
  r.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  r.get('/readyz', async (_req, res) => {
    const results = await checks();
    const ready = Object.values(results).every(Boolean);
    res.status(ready ? 200 : 503).json({ ready, checks: results, ...facts?.() });
  });
  r.get('/metrics', async (_req, res) => {
    res.type(registry.contentType).send(await registry.metrics());
  });
  return r;
}

/** Runs a check with a deadline; a check that throws or hangs reports false. */
export async function probe(check: () => Promise<unknown>, timeoutMs = 2_000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      check().then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      }),
    ]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
