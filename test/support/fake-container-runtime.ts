/**
 * An in-memory ContainerRuntime for scheduler tests (style.md 3.9: fakes record what happened).
 * It records every spec it was asked to start and every id it destroyed. A started "container"
 * simulates the runtime inside it: it connects to the Runtime API socket mounted at /run/gantry
 * and, by default, polls `next` and echoes each event back as the response. Tests choose other
 * behaviours per start (init error, exit during init, silence, failing start) and can make a
 * container exit at any time with `exit()`.
 */
import http from 'node:http';
import path from 'node:path';
import {
  ContainerRuntimeError,
  type ContainerExit,
  type ContainerId,
  type ContainerRuntime,
  type ContainerSpec,
  type ImageInfo,
  type ManagedContainer,
} from '../../control-plane/containers/container-runtime.js';

export type FakeBehaviour =
  /** Polls `next` and posts each event's payload back as its response. */
  | { readonly kind: 'echo' }
  /** Posts `init/error`, then exits with status 1, as the Python RIC does. */
  | { readonly kind: 'init-error'; readonly errorType: string }
  /** Exits before its first poll. */
  | { readonly kind: 'exit-during-init'; readonly exit: ContainerExit }
  /** Runs but never talks to the Runtime API. */
  | { readonly kind: 'silent' }
  /** start() rejects with this error and nothing is created. */
  | { readonly kind: 'fail-start'; readonly error: Error };

interface FakeContainer {
  readonly id: ContainerId;
  readonly spec: ContainerSpec;
  readonly exit: Promise<ContainerExit>;
  readonly resolveExit: (e: ContainerExit) => void;
  readonly abort: AbortController;
  exited: boolean;
  removed: boolean;
}

export const SOCKET_MOUNT = '/run/gantry';
/** What `destroy()` reports to `waitForExit` for a container that was still running (SIGKILL). */
export const KILLED: ContainerExit = { exitCode: 137, oomKilled: false };

export class FakeContainerRuntime implements ContainerRuntime {
  /** Every spec start() was called with, including failed starts. */
  readonly startAttempts: ContainerSpec[] = [];
  /** Containers that started, in order. */
  readonly started: { readonly id: ContainerId; readonly spec: ContainerSpec }[] = [];
  /** Every destroy() call, in order (a repeated id means a repeated call). */
  readonly destroyed: ContainerId[] = [];
  /** Request ids the simulated runtimes answered. */
  readonly answered: string[] = [];
  readonly networks: string[] = [];
  /** Behaviours for the next starts, consumed in order; `behaviour` once empty. */
  readonly queued: FakeBehaviour[] = [];
  behaviour: FakeBehaviour = { kind: 'echo' };
  engineUp = true;
  /** Images inspectImage() reports as present. */
  readonly images = new Map<string, ImageInfo>();
  private readonly containers = new Map<ContainerId, FakeContainer>();
  private seq = 0;
  private gate: Promise<void> | undefined;

  /** Makes later start() calls wait (after recording their spec) until the returned function runs. */
  holdStarts(): () => void {
    let open!: () => void;
    this.gate = new Promise<void>((r) => (open = r));
    return () => {
      this.gate = undefined;
      open();
    };
  }

  /** Ids of containers started and not yet destroyed. */
  get running(): ContainerId[] {
    return [...this.containers.values()].filter((c) => !c.removed).map((c) => c.id);
  }

  async start(spec: ContainerSpec): Promise<ContainerId> {
    this.startAttempts.push(spec);
    if (this.gate) await this.gate;
    if (!this.engineUp) throw new ContainerRuntimeError('engine-unavailable', 'fake engine is down');
    const behaviour = this.queued.shift() ?? this.behaviour;
    if (behaviour.kind === 'fail-start') throw behaviour.error;
    const id = `fake-${++this.seq}` as ContainerId;
    let resolveExit!: (e: ContainerExit) => void;
    const exit = new Promise<ContainerExit>((r) => (resolveExit = r));
    const c: FakeContainer = { id, spec, exit, resolveExit, abort: new AbortController(), exited: false, removed: false };
    this.containers.set(id, c);
    this.started.push({ id, spec });
    // Like a real process, the runtime starts talking only after start() has returned.
    setImmediate(() => void this.simulate(c, behaviour).catch(() => undefined));
    return id;
  }

  waitForExit(id: ContainerId): Promise<ContainerExit> {
    const c = this.containers.get(id);
    return c ? c.exit : Promise.reject(new ContainerRuntimeError('not-found', `no container ${id}`));
  }

  async destroy(id: ContainerId): Promise<void> {
    this.destroyed.push(id);
    const c = this.containers.get(id);
    if (!c || c.removed) return;
    c.removed = true;
    this.exit(id, KILLED);
  }

  /** Makes a running container stop with `exit`, as if its process ended. */
  exit(id: ContainerId, exit: ContainerExit): void {
    const c = this.containers.get(id);
    if (!c || c.exited) return;
    c.exited = true;
    c.abort.abort();
    c.resolveExit(exit);
  }

  async listManaged(labels: Readonly<Record<string, string>>): Promise<readonly ManagedContainer[]> {
    return [...this.containers.values()]
      .filter((c) => !c.removed && Object.entries(labels).every(([k, v]) => c.spec.labels[k] === v))
      .map((c) => ({ id: c.id, labels: c.spec.labels }));
  }

  async inspectImage(image: string): Promise<ImageInfo | undefined> {
    return this.images.get(image);
  }

  async ensureNetwork(name: string): Promise<void> {
    if (!this.networks.includes(name)) this.networks.push(name);
  }

  async ping(): Promise<boolean> {
    return this.engineUp;
  }

  private async simulate(c: FakeContainer, b: FakeBehaviour): Promise<void> {
    if (c.exited) return;
    const mount = c.spec.mounts.find((m) => m.containerPath === SOCKET_MOUNT);
    if (!mount) throw new Error(`spec ${c.spec.name} has no ${SOCKET_MOUNT} mount`);
    const socketPath = path.join(mount.hostPath, 'runtime.sock');
    const api = (method: string, p: string, body?: Buffer, headers: Record<string, string> = {}) =>
      request(socketPath, method, `/2018-06-01/runtime${p}`, c.abort.signal, body, headers);
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
