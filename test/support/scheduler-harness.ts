/**
 * Shared set-up for the scheduler tests (no tests of its own): a Scheduler on a
 * FakeContainerRuntime, a ManualClock and a temporary data dir, with helpers to wait (bounded) for
 * background work and to check at the end that nothing leaked. Each function version gets a code
 * directory of its own whose files name the function, so a test can tell whose code a stem cell
 * holds.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import type { Test } from 'tap';
import type { FunctionId, FunctionVersion, TenantId, VersionId } from '../../control-plane/functions/function-types.js';
import { Scheduler, type EnvironmentLease, type SchedulerDeps, type SchedulerOptions, type StartFailureCause } from '../../control-plane/scheduler/scheduler.js';
import { containersDirOf } from '../../control-plane/scheduler/environment-paths.js';
import { FakeContainerRuntime } from './fake-container-runtime.js';
import { ManualClock } from './manual-clock.js';

export const NODE_ID = 'node-test';

const versionIds = new Map<string, number>();

/**
 * Version `n` of function `name`. Version ids are global in Gantry (one sequence for every
 * function), so each (name, n) gets an id of its own; the same pair always gets the same id.
 */
export function fn(name: string, n: number, over: Partial<FunctionVersion> = {}): FunctionVersion {
  const key = `${name}@${n}`;
  if (!versionIds.has(key)) versionIds.set(key, versionIds.size + 1);
  return {
    tenantId: 'default' as TenantId,
    functionId: `fn-${name}` as FunctionId,
    versionId: versionIds.get(key) as VersionId,
    name,
    runtime: 'nodejs20',
    handler: 'index.handler',
    memoryMb: 128,
    timeoutMs: 3000,
    environment: { GREETING: `hi from ${name}` },
    network: 'default',
    codeSha256: `sha-${name}-${n}`,
    codeSize: 1,
    ...over,
  };
}

/** The files `codeDirFor` gives version `v` (relative path → content). */
export function codeOf(v: FunctionVersion): Record<string, string> {
  return {
    'index.js': `exports.handler = async () => '${v.name}@${v.versionId}';\n`,
    'lib/secret.txt': `secret of ${v.name}\n`,
  };
}

export interface HarnessOptions extends Partial<SchedulerOptions> {
  /** What deps.stemCellRuntimes() answers at first; none (no stem cells) by default. */
  readonly runtimes?: readonly string[];
  readonly codeDirFor?: SchedulerDeps['codeDirFor'];
  readonly expiringEnvironment?: SchedulerDeps['expiringEnvironment'];
}

export type Harness = Awaited<ReturnType<typeof harness>>;

export async function harness(t: Test, over: HarnessOptions = {}) {
  const { codeDirFor, expiringEnvironment, ...options } = over;
  const runtimes = [...(over.runtimes ?? [])];
  const dataDir = await mkdtemp(path.join(tmpdir(), 'gantry-sched-'));
  const containers = new FakeContainerRuntime();
  const clock = new ManualClock(1_000_000);
  let maintenancePasses = 0;
  let codeGate: Promise<void> | undefined;
  const startFailures: { cause: StartFailureCause; retried: boolean }[] = [];
  let networkRepairs = 0;
  const codeRequests: FunctionVersion[] = [];
  const writeCode = async (v: FunctionVersion): Promise<string> => {
    codeRequests.push(v);
    if (codeGate) await codeGate;
    const dir = path.join(dataDir, 'code', v.codeSha256);
    for (const [file, text] of Object.entries(codeOf(v))) {
      await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
      await writeFile(path.join(dir, file), text);
    }
    return dir;
  };
  const opts: SchedulerOptions = {
    nodeId: NODE_ID,
    dataDir,
    region: 'us-east-1',
    user: '1000:1000',
    functionNetwork: 'gantry-fn',
    // Maintenance runs every keepWarmMs / 10 (at least 100 ms): fast, with the clock held still.
    keepWarmMs: 1000,
    maxConcurrentStarts: 4,
    initTimeoutMs: 2_000,
    nodeMemoryMb: 4096,
    stemCellsPerRuntime: 2,
    stemCellMemoryMb: 128,
    initFailureBackoffMs: 0,
    logMaxBytesPerInvocation: 64 * 1024,
    ...options,
  };
  const scheduler = new Scheduler(
    {
      containers,
      codeDirFor: codeDirFor ?? writeCode,
      imageFor: (r) => `gantry/${r}:test`,
      stemCellRuntimes: async () => {
        maintenancePasses += 1;
        return runtimes;
      },
      logSink: () => undefined,
      logger: pino({ level: 'silent' }),
      nowMs: clock.now,
      ...(expiringEnvironment ? { expiringEnvironment } : {}),
      onStartFailure: (cause, retried) => startFailures.push({ cause, retried }),
      ensureNetwork: async () => {
        networkRepairs += 1;
        await containers.ensureNetwork(opts.functionNetwork);
      },
    },
    opts,
  );
  scheduler.startMaintenance();
  t.teardown(async () => {
    await scheduler.close();
    await rm(dataDir, { recursive: true, force: true });
  });
  const nodeDir = containersDirOf(opts.dataDir, opts.nodeId);
  /** Environment directories under this node's containers dir. */
  const envDirs = () => readdir(nodeDir).catch(() => [] as string[]);

  return {
    dataDir,
    nodeDir,
    containers,
    clock,
    scheduler,
    opts,
    envDirs,
    /** Every start the platform failed (onStartFailure), in order. */
    startFailures,
    /** How often the scheduler asked for the function network to be recreated. */
    networkRepairs: () => networkRepairs,
    /** What stemCellRuntimes() answers; tests may change it. */
    runtimes,
    /** Every version codeDirFor was asked for, in order. */
    codeRequests,
    /** Makes codeDirFor wait (after recording the request) until the returned function runs. */
    holdCode(): () => void {
      let open!: () => void;
      codeGate = new Promise<void>((r) => (open = r));
      return () => {
        codeGate = undefined;
        open();
      };
    },
    /**
     * Waits until `n` more background maintenance passes have asked for the stem-cell runtimes
     * (a pass that is still refilling, or backing off, does not count).
     */
    async passes(n: number, ms = 3000): Promise<void> {
      const target = maintenancePasses + n;
      await waitFor(`${n} maintenance passes`, () => maintenancePasses >= target, ms);
    },
    /**
     * Closes the scheduler, then checks no container, environment or directory is left. It allows
     * a moment for removals that close() does not wait for (close-semantics tests are strict).
     */
    async closeClean(t: Test): Promise<void> {
      await scheduler.close();
      await waitFor('every container and directory to be removed', async () => containers.running.length === 0 && (await envDirs()).length === 0, 1000).catch(
        () => undefined,
      );
      t.strictSame(containers.running, [], 'no container is left running');
      t.strictSame(await envDirs(), [], "the node's containers dir holds no environment directory");
      t.equal(scheduler.stats().memoryInUseMb, 0, 'no environment is left');
    },
  };
}

export async function leaseOf(s: Scheduler, v: FunctionVersion): Promise<EnvironmentLease> {
  const a = await s.acquire(v);
  if (a.kind !== 'lease') throw new Error(`expected a lease, got ${a.kind}`);
  return a.lease;
}

/** One invocation through the lease; the fake runtime echoes the payload. */
export async function echo(lease: EnvironmentLease, text: string): Promise<string> {
  const r = await lease.channel.dispatch({ requestId: randomUUID(), payload: Buffer.from(text), invokedFunctionArn: 'arn:x' }, 2000, 2000);
  return r.kind === 'response' ? r.body.toString() : r.kind;
}

/** Polls `cond` until it holds, for at most `ms` (no fixed sleeps). */
export async function waitFor(what: string, cond: () => boolean | Promise<boolean>, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** stats() with the given counts (everything else zero). */
export function counts(c: Partial<Record<'starting' | 'idle' | 'busy' | 'stem-cell', number>>, memoryInUseMb?: number) {
  const environments = { starting: 0, idle: 0, busy: 0, dead: 0, 'stem-cell': 0, ...c };
  const n = environments.starting + environments.idle + environments.busy + environments['stem-cell'];
  return { environments, memoryInUseMb: memoryInUseMb ?? n * 128 };
}
