/**
 * What the integration and end-to-end tests need, checked up front: a missing service fails the
 * test with a message naming it and how to start it, never a silent skip.
 */
import net from 'node:net';
import Docker from 'dockerode';
import type { Test } from 'tap';

export const TEST_DATABASE_BASE = process.env.GANTRY_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const TEST_REDIS_URL = process.env.GANTRY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** Every runtime image `npm run images` builds; the tests deploy functions on each. */
export const RUNTIME_IMAGES: readonly string[] = ['nodejs20', 'nodejs22', 'nodejs24', 'python3.11', 'python3.13', 'ruby3.3', 'java21', 'provided', 'dotnet-mono'].map((id) => `gantry/${id}:latest`);

const HINT = 'run `npm run services` (starts Postgres, Redis and Docker) and `npm run images`';

export async function requireServices(t: Test, needs: { docker?: boolean } = { docker: true }): Promise<void> {
  const missing: string[] = [];
  const pg = new URL(TEST_DATABASE_BASE);
  if (!(await canConnect(pg.hostname, Number(pg.port || 5432)))) missing.push(`Postgres at ${pg.host}`);
  const redis = new URL(TEST_REDIS_URL);
  if (!(await canConnect(redis.hostname, Number(redis.port || 6379)))) missing.push(`Redis at ${redis.host}`);
  if (needs.docker !== false) {
    const docker = new Docker();
    const up = await docker.ping().then(() => true, () => false);
    if (!up) missing.push('the Docker engine');
    else {
      for (const image of RUNTIME_IMAGES) {
        if (!(await docker.getImage(image).inspect().then(() => true, () => false))) missing.push(`the runtime image ${image}`);
      }
    }
  }
  if (missing.length > 0) {
    t.fail(`missing: ${missing.join(', ')}; ${HINT}`);
    throw new Error(`test prerequisites missing: ${missing.join(', ')}`);
  }
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port, timeout: 1_000 });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
    s.once('timeout', () => {
      s.destroy();
      resolve(false);
    });
  });
}
