/** Helpers for async-invocation tests: enqueue an event, wait for an invocation's outcome. */
import type { Test } from 'tap';
import { eventually, type Stack } from './stack.js';

export type Admin = Stack['admin'];

/** `?async=true`; fails the test unless it answers 202 with an id. */
export async function invokeAsync(t: Test, admin: Admin, fn: string, event: unknown = {}): Promise<string> {
  const res = await admin('POST', `/v1/functions/${fn}/invoke?async=true`, event);
  const body = (await res.json()) as { invocationId?: string };
  t.equal(res.status, 202, `async invoke of ${fn}: ${JSON.stringify(body)}`);
  return body.invocationId as string;
}

export async function invocation(admin: Admin, id: string): Promise<Record<string, unknown> | undefined> {
  const res = await admin('GET', `/v1/invocations/${id}`);
  if (res.status === 404) return undefined;
  return (await res.json()) as Record<string, unknown>;
}

const FINAL = new Set(['succeeded', 'failed', 'dead-lettered']);

/** Polls until the invocation has an outcome; undefined when it has none within `timeoutMs`. */
export async function settled(admin: Admin, id: string, timeoutMs = 60_000): Promise<Record<string, unknown> | undefined> {
  let last: Record<string, unknown> | undefined;
  const ok = await eventually(async () => {
    last = await invocation(admin, id);
    return last !== undefined && FINAL.has(last.status as string);
  }, timeoutMs, 100);
  return ok ? last : undefined;
}

/**
 * Another control plane on the stack's database and Redis prefix (a second node: own node id,
 * data directory and port), as when several control planes serve one installation.
 */
export async function secondControlPlane(t: Test, stack: Stack, onLog?: (line: Record<string, unknown>) => void): Promise<string> {
  const { mkdtemp, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const path = await import('node:path');
  const { default: Docker } = await import('dockerode');
  const { createLogger } = await import('../../common/logger.js');
  const { createControlPlane } = await import('../../control-plane/app.js');
  const { loadControlPlaneConfig } = await import('../../control-plane/config.js');
  const { TEST_REDIS_URL } = await import('./services.js');
  const nodeId = `${stack.nodeId}-b`;
  const dataDir = await mkdtemp(path.join(tmpdir(), 'gantry-test-b-'));
  const config = loadControlPlaneConfig({
    DATABASE_URL: stack.databaseUrl,
    REDIS_URL: TEST_REDIS_URL,
    GANTRY_REDIS_PREFIX: stack.redisPrefix,
    GANTRY_ADMIN_TOKEN: stack.token,
    GANTRY_DATA_DIR: dataDir,
    // The first node's token: one installation has one.
    GANTRY_INTERNAL_TOKEN_FILE: stack.internalTokenFile,
    // And its key for stored secrets: every control plane of one database needs the same.
    GANTRY_ENCRYPTION_KEY_FILE: path.join(stack.dataDir, 'encryption-key'),
    GANTRY_NODE_ID: nodeId,
    GANTRY_CONTROL_PLANE_PORT: '0',
    GANTRY_FUNCTION_LAMBDA_PORT: '0',
    GANTRY_BIND_HOST: '127.0.0.1',
  });
  const logger = onLog
    ? createLogger({ level: 'debug', name: nodeId, destination: { write: (line: string) => onLog(JSON.parse(line) as Record<string, unknown>) } })
    : createLogger({ level: 'silent', name: nodeId });
  const cp = createControlPlane(config, logger, { announce: () => undefined });
  const port = await cp.start();
  t.teardown(async () => {
    await cp.close();
    const docker = new Docker();
    const left = await docker.listContainers({ all: true, filters: { label: [`gantry.node=${nodeId}`] } });
    await Promise.all(left.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
    await rm(dataDir, { recursive: true, force: true });
  });
  return `http://127.0.0.1:${port}`;
}

/** Ledger attempts per invocation id, as Postgres has them (the metering spool ships them a moment after they ran). */
export async function ledgerAttempts(databaseUrl: string, ids: readonly string[]): Promise<Map<string, number[]>> {
  const { default: pg } = await import('pg');
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const rows = (await db.query<{ id: string; attempt: number }>('SELECT id, attempt FROM invocations WHERE id = ANY($1::uuid[]) ORDER BY id, attempt', [ids])).rows;
    const out = new Map<string, number[]>(ids.map((id) => [id, []]));
    for (const r of rows) out.get(r.id)?.push(r.attempt);
    return out;
  } finally {
    await db.end();
  }
}

/** Waits until the ledger has at least `min` attempts of every id; then returns them all. */
export async function shippedAttempts(databaseUrl: string, ids: readonly string[], min = 1, timeoutMs = 30_000): Promise<Map<string, number[]>> {
  let last = new Map<string, number[]>();
  await eventually(async () => {
    last = await ledgerAttempts(databaseUrl, ids);
    return [...last.values()].every((a) => a.length >= min);
  }, timeoutMs, 100);
  return last;
}
