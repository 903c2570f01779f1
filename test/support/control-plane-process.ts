/**
 * The built control plane (`node dist/control-plane/main.js`) as a child process on its own
 * database, Redis prefix, data directory and node id, for tests that kill it or stop it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import type { Test } from 'tap';
import { dropDatabase } from '../../common/db.js';
import { TEST_DATABASE_BASE, TEST_REDIS_URL } from './services.js';
import { eventually, withDatabase } from './stack.js';

export interface Running {
  readonly child: ChildProcess;
  /** Everything it printed so far, stdout and stderr interleaved. */
  readonly output: () => string;
  /** Its JSON log lines (stdout) so far, parsed. */
  readonly logs: () => Record<string, unknown>[];
  readonly exited: Promise<number | null>;
}

export interface ProcessStack {
  readonly base: string;
  readonly databaseUrl: string;
  readonly nodeId: string;
  start(): Promise<Running>;
  admin(method: string, p: string, body?: unknown, headers?: Record<string, string>): Promise<Response>;
}

const mainJs = path.resolve(import.meta.dirname, '../../dist/control-plane/main.js');

/**
 * A free port below Linux's ephemeral range (32768+), so that no outgoing connection can take it
 * between two starts of a control plane that must come back on the same port.
 */
export async function freePort(): Promise<number> {
  for (let tries = 0; ; tries++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await new Promise<boolean>((resolve) => {
      const srv = net.createServer();
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
    if (free) return port;
    if (tries > 50) throw new Error('no free port below the ephemeral range');
  }
}

/**
 * Starts `node dist/control-plane/main.js` with exactly `env` on top of this process's environment
 * (minus tap's loader hooks) and resolves once `readyUrl` answers 200; rejects with its output
 * otherwise. The caller stops it (and removes what it left).
 */
export async function spawnControlPlane(env: Record<string, string>, readyUrl: string, timeoutMs = 30_000): Promise<Running> {
  const { NODE_OPTIONS: _tapHooks, ...parentEnv } = process.env;
  const child = spawn(process.execPath, [mainJs], { env: { ...parentEnv, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let stdout = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
    stdout += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const logs = () => stdout.split('\n').flatMap((line) => {
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return []; // not a log line (or one still being written)
    }
  });
  const up = await eventually(async () => (await fetch(readyUrl).catch(() => undefined))?.status === 200, timeoutMs, 100);
  if (!up) {
    child.kill('SIGKILL');
    throw new Error(`control plane did not start:\n${out}`);
  }
  return { child, output: () => out, logs, exited };
}

export async function processStack(t: Test, env: Record<string, string> = {}): Promise<ProcessStack> {
  const id = randomBytes(4).toString('hex');
  const nodeId = `test-cp-${id}`;
  const token = `cp-token-${randomBytes(16).toString('hex')}`;
  const dataDir = await mkdtemp(path.join(tmpdir(), 'gantry-cp-'));
  const databaseUrl = withDatabase(TEST_DATABASE_BASE, `gantry_test_${id}`);
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const docker = new Docker();
  const children = new Set<ChildProcess>();
  t.teardown(async () => {
    for (const c of children) c.kill('SIGKILL');
    const left = await docker.listContainers({ all: true, filters: { label: [`gantry.node=${nodeId}`] } });
    for (const c of left) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
    await dropDatabase(databaseUrl).catch(() => undefined);
    await rm(dataDir, { recursive: true, force: true });
  });
  const start = async (): Promise<Running> => {
    const running = await spawnControlPlane(
      {
        DATABASE_URL: databaseUrl,
        REDIS_URL: TEST_REDIS_URL,
        GANTRY_REDIS_PREFIX: `test:${id}:`,
        GANTRY_ADMIN_TOKEN: token,
        GANTRY_DATA_DIR: dataDir,
        GANTRY_NODE_ID: nodeId,
        GANTRY_CONTROL_PLANE_PORT: String(port),
        GANTRY_FUNCTION_LAMBDA_PORT: '0',
        GANTRY_BIND_HOST: '127.0.0.1',
        GANTRY_STEM_CELL_RUNTIMES: 'nodejs20,python3.11',
        ...env,
      },
      `${base}/readyz`,
    );
    children.add(running.child);
    void running.exited.then(() => children.delete(running.child));
    return running;
  };
  const admin = (method: string, p: string, body?: unknown, headers: Record<string, string> = {}) =>
    fetch(base + p, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  return { base, databaseUrl, nodeId, start, admin };
}
