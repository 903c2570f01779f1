/**
 * An in-memory ContainerRuntime for scheduler tests (style.md 3.9: fakes record what happened).
 * It records every spec it was asked to start and every id it destroyed. A started "container"
 * simulates the runtime inside it: it connects to the Runtime API socket mounted at /run/gantry
 * and, by default, polls `next` and echoes each event back as the response. Tests choose other
 * behaviours per start (init error, exit during init, silence, failing start) and can make a
 * container exit at any time with `exit()`.
 *
 * A spec without `_HANDLER` is a stem cell (design.md, Stem cells): its runtime first asks
 * `GET /gantry/v1/specialize`, which blocks until the scheduler assigns it a function, and only
 * then behaves as a function runtime. The fake records, per stem cell, what its /var/task held
 * when it asked (must be nothing), the environment the answer carried and what /var/task held
 * once answered (the function's code, and only that). Stem cells take their behaviours from
 * `stemQueued`/`stemBehaviour`, function containers from `queued`/`behaviour`, so cells started
 * in the background never consume a behaviour a test queued for a function.
 */
import http from 'node:http';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  ContainerRuntimeError,
  type ContainerExit,
  type ContainerId,
  type ContainerRuntime,
  type ContainerSpec,
  type FunctionNetwork,
  type ImageInfo,
  type ManagedContainer,
  type OutputSink,
} from '../../control-plane/containers/container-runtime.js';

export type FakeBehaviour =
  /** Polls `next` and posts each event's payload back as its response. */
  | { readonly kind: 'echo' }
  /** Posts `init/error`, then exits with status 1, as the Python RIC does. */
  | { readonly kind: 'init-error'; readonly errorType: string }
  /** Exits before its first poll (a stem cell: right after it was specialised). */
  | { readonly kind: 'exit-during-init'; readonly exit: ContainerExit }
  /** Runs but never talks to the Runtime API (a stem cell: once specialised). */
  | { readonly kind: 'silent' }
  /** A stem cell that never asks to be specialised (a function container: same as silent). */
  | { readonly kind: 'no-specialize' }
  /** start() rejects with this error and nothing is created. */
  | { readonly kind: 'fail-start'; readonly error: Error };

interface FakeContainer {
  readonly id: ContainerId;
  readonly spec: ContainerSpec;
  readonly exit: Promise<ContainerExit>;
  readonly resolveExit: (e: ContainerExit) => void;
  readonly abort: AbortController;
  readonly output: OutputSink | undefined;
  exited: boolean;
  removed: boolean;
}

/** What one stem cell saw; filled in as it happens. */
export interface StemCellRecord {
  readonly id: ContainerId;
  readonly spec: ContainerSpec;
  /** Host directory mounted as its /var/task. */
  readonly taskDir: string;
  /** /var/task's files (relative paths) when the runtime asked to be specialised. */
  filesBefore: string[] | undefined;
  /** The `environment` of the specialize answer. */
  environment: Record<string, string> | undefined;
  /** /var/task's files (relative path → content) when the answer arrived. */
  filesAfter: Record<string, string> | undefined;
}

export const SOCKET_MOUNT = '/run/gantry';
export const TASK_MOUNT = '/var/task';
/** What `destroy()` reports to `waitForExit` for a container that was still running (SIGKILL). */
export const KILLED: ContainerExit = { exitCode: 137, oomKilled: false };

export function isStemCellSpec(spec: ContainerSpec): boolean {
  return spec.env._HANDLER === undefined;
}

export class FakeContainerRuntime implements ContainerRuntime {
  /** Every spec start() was called with, including failed starts. */
  readonly startAttempts: ContainerSpec[] = [];
  /** Containers that started, in order. */
  readonly started: { readonly id: ContainerId; readonly spec: ContainerSpec }[] = [];
  /** Every destroy() call, in order, failed ones included (a repeated id means a repeated call). */
  readonly destroyed: ContainerId[] = [];
  /** Request ids the simulated runtimes answered. */
  readonly answered: string[] = [];
  readonly networks: string[] = [];
  /** Stem cells that started, in order. */
  readonly stemCells: StemCellRecord[] = [];
  /** Behaviours for the next function-container starts, consumed in order; `behaviour` once empty. */
  readonly queued: FakeBehaviour[] = [];
  behaviour: FakeBehaviour = { kind: 'echo' };
  /** The same for stem cells (what the cell does once specialised, or how it fails before). */
  readonly stemQueued: FakeBehaviour[] = [];
  stemBehaviour: FakeBehaviour = { kind: 'echo' };
  engineUp = true;
  /** Images inspectImage() reports as present. */
  readonly images = new Map<string, ImageInfo>();
  /** Images that are not there: start() rejects with image-missing, as Docker does. */
  readonly missingImages = new Set<string>();
  private readonly containers = new Map<ContainerId, FakeContainer>();
  private seq = 0;
  private gate: Promise<void> | undefined;
  private destroyGate: Promise<void> | undefined;

  /** Makes later start() calls wait (after recording their spec) until the returned function runs. */
  holdStarts(): () => void {
    let open!: () => void;
    this.gate = new Promise<void>((r) => (open = r));
    return () => {
      this.gate = undefined;
      open();
    };
  }

  /** Makes later destroy() calls wait (after recording the id) until the returned function runs. */
  holdDestroys(): () => void {
    let open!: () => void;
    this.destroyGate = new Promise<void>((r) => (open = r));
    return () => {
      this.destroyGate = undefined;
      open();
    };
  }

  /** Ids of containers started and not yet destroyed. */
  get running(): ContainerId[] {
    return [...this.containers.values()].filter((c) => !c.removed).map((c) => c.id);
  }

  /** Function containers (spec with a handler) that started, in order. */
  get functionStarts(): { readonly id: ContainerId; readonly spec: ContainerSpec }[] {
    return this.started.filter((s) => !isStemCellSpec(s.spec));
  }

  /** The record of stem cell `id`, if it was one. */
  stemCell(id: ContainerId): StemCellRecord | undefined {
    return this.stemCells.find((s) => s.id === id);
  }

  /** The container started for environment `environmentId` (label gantry.environment). */
  containerOf(environmentId: string): ContainerId | undefined {
    return this.started.find((s) => s.spec.labels['gantry.environment'] === environmentId)?.id;
  }

  async start(spec: ContainerSpec, output?: OutputSink): Promise<ContainerId> {
    this.startAttempts.push(spec);
    if (this.gate) await this.gate;
    if (!this.engineUp) throw new ContainerRuntimeError('engine-unavailable', 'fake engine is down');
    // Like Docker: nothing is created for a missing image or a name a container still holds.
    if (this.missingImages.has(spec.image)) throw new ContainerRuntimeError('image-missing', `no such image: ${spec.image}`);
    if ([...this.containers.values()].some((c) => !c.removed && c.spec.name === spec.name)) {
      throw new ContainerRuntimeError('conflict', `the container name ${spec.name} is already in use`);
    }
    const stem = isStemCellSpec(spec);
    const behaviour = stem ? (this.stemQueued.shift() ?? this.stemBehaviour) : (this.queued.shift() ?? this.behaviour);
    if (behaviour.kind === 'fail-start') throw behaviour.error;
    const id = `fake-${++this.seq}` as ContainerId;
    let resolveExit!: (e: ContainerExit) => void;
    const exit = new Promise<ContainerExit>((r) => (resolveExit = r));
    const c: FakeContainer = { id, spec, exit, resolveExit, abort: new AbortController(), output, exited: false, removed: false };
    this.containers.set(id, c);
    this.started.push({ id, spec });
    if (stem) {
      const task = spec.mounts.find((m) => m.containerPath === TASK_MOUNT);
      if (!task) throw new Error(`stem cell spec ${spec.name} has no ${TASK_MOUNT} mount`);
      this.stemCells.push({ id, spec, taskDir: task.hostPath, filesBefore: undefined, environment: undefined, filesAfter: undefined });
    }
    // Like a real process, the runtime starts talking only after start() has returned.
    setImmediate(() => void this.simulate(c, behaviour).catch(() => undefined));
    return id;
  }

  /** Like Docker's: a container that does not exist has stopped, with no exit code. */
  waitForExit(id: ContainerId): Promise<ContainerExit> {
    const c = this.containers.get(id);
    return c ? c.exit : Promise.resolve({ exitCode: null, oomKilled: false });
  }

  async destroy(id: ContainerId): Promise<void> {
    this.destroyed.push(id);
    if (this.destroyGate) await this.destroyGate;
    // Like Docker: nothing can be removed while the engine is away (the container keeps running).
    if (!this.engineUp) throw new ContainerRuntimeError('engine-unavailable', 'fake engine is down');
    const c = this.containers.get(id);
    if (!c || c.removed) return;
    c.removed = true;
    this.exit(id, KILLED);
  }

  /** Makes a running container write `text` to its stdout or stderr (to the start() output sink). */
  print(id: ContainerId, stream: 'stdout' | 'stderr', text: string): void {
    const c = this.containers.get(id);
    if (c && !c.exited) c.output?.(stream, Buffer.from(text));
  }

  /** Makes a running container stop with `exit`, as if its process ended. */
  exit(id: ContainerId, exit: ContainerExit): void {
    const c = this.containers.get(id);
    if (!c || c.exited) return;
    c.exited = true;
    c.abort.abort();
    c.resolveExit(exit);
  }

  async listManaged(labels: Readonly<Record<string, string>>, opts: { readonly exitedOnly?: boolean } = {}): Promise<readonly ManagedContainer[]> {
    if (!this.engineUp) throw new ContainerRuntimeError('engine-unavailable', 'fake engine is down');
    return [...this.containers.values()]
      .filter((c) => !c.removed && (opts.exitedOnly !== true || c.exited) && Object.entries(labels).every(([k, v]) => c.spec.labels[k] === v))
      .map((c) => ({ id: c.id, labels: c.spec.labels }));
  }

  async inspectImage(image: string): Promise<ImageInfo | undefined> {
    return this.images.get(image);
  }

  async ensureNetwork(name: string): Promise<FunctionNetwork> {
    if (!this.networks.includes(name)) this.networks.push(name);
    return { bridge: undefined, isolated: true };
  }

  async networkGateway(name: string): Promise<string | undefined> {
    if (!this.networks.includes(name)) throw new ContainerRuntimeError('not-found', `no network ${name}`);
    return '172.31.0.1';
  }

  async ping(): Promise<boolean> {
    return this.engineUp;
  }

  private async simulate(c: FakeContainer, b: FakeBehaviour): Promise<void> {
    if (c.exited) return;
    const mount = c.spec.mounts.find((m) => m.containerPath === SOCKET_MOUNT);
    if (!mount) throw new Error(`spec ${c.spec.name} has no ${SOCKET_MOUNT} mount`);
    const socketPath = path.join(mount.hostPath, 'runtime.sock');
    const call = (method: string, p: string, body?: Buffer, headers: Record<string, string> = {}) =>
      request(socketPath, method, p, c.abort.signal, body, headers);
    const api = (method: string, p: string, body?: Buffer, headers: Record<string, string> = {}) =>
      call(method, `/2018-06-01/runtime${p}`, body, headers);
    if (b.kind === 'no-specialize') return;
    const record = this.stemCell(c.id);
    if (record) {
      record.filesBefore = Object.keys(await listFiles(record.taskDir));
      const answer = await call('GET', '/gantry/v1/specialize');
      if (answer.status !== 200) return this.exit(c.id, { exitCode: 1, oomKilled: false });
      record.environment = (JSON.parse(answer.body.toString('utf8')) as { environment: Record<string, string> }).environment;
      record.filesAfter = await listFiles(record.taskDir);
    }
    switch (b.kind) {
      case 'silent':
        return;
      case 'exit-during-init':
        return this.exit(c.id, b.exit);
      case 'init-error': {
        const body = Buffer.from(JSON.stringify({ errorType: b.errorType, errorMessage: 'fake init failure', stackTrace: [] }));
        await api('POST', '/init/error', body, { 'Lambda-Runtime-Function-Error-Type': b.errorType }).catch(() => undefined);
        return this.exit(c.id, { exitCode: 1, oomKilled: false });
      }
      case 'echo':
        while (!c.exited) {
          const next = await api('GET', '/invocation/next');
          // A failed poll makes the stock runtimes exit; the fake just stops talking.
          if (next.status !== 200) return;
          const requestId = String(next.headers['lambda-runtime-aws-request-id']);
          const type = String(next.headers['content-type'] ?? 'application/json');
          await api('POST', `/invocation/${encodeURIComponent(requestId)}/response`, next.body, { 'Content-Type': type });
          this.answered.push(requestId);
        }
        return;
      case 'fail-start':
        return;
    }
  }
}

/** Every file under `dir` (relative path → utf8 content); {} when `dir` does not exist. */
export async function listFiles(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (rel: string): Promise<void> => {
    const entries = await readdir(path.join(dir, rel), { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const p = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) await walk(p);
      else out[p] = await readFile(path.join(dir, p), 'utf8').catch(() => '');
    }
  };
  await walk('');
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}

interface Reply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

function request(socketPath: string, method: string, p: string, signal: AbortSignal, body?: Buffer, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, method, path: p, headers, agent: false, signal }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
