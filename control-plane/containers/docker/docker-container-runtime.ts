/**
 * ContainerRuntime on the Docker Engine API (dockerode; never the CLI, which costs 20-35 ms a
 * call). Every call has a deadline; dockerode errors are translated here and nowhere else.
 */
import { Writable } from 'node:stream';
import Docker from 'dockerode';
import { DeadlineExceededError, withDeadline } from '../../../common/deadline.js';
import { Semaphore } from '../semaphore.js';
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
} from '../container-runtime.js';

export interface DockerRuntimeOptions {
  /** `DOCKER_HOST` value (unix:// or tcp://), or undefined for the local socket. */
  readonly dockerHost: string | undefined;
  readonly callTimeoutMs: number;
}

/**
 * Docker 20.10 can deadlock its network controller when many containers leave a bridge network
 * at once (moby/moby#42545): removals are bounded like starts, whoever asks (shutdown, orphan
 * sweep, eviction).
 */
const MAX_CONCURRENT_REMOVALS = 4;

/** With it off, the engine drops traffic between containers of the bridge (its own FORWARD rule). */
const ICC_OPTION = 'com.docker.network.bridge.enable_icc';
const BRIDGE_NAME_OPTION = 'com.docker.network.bridge.name';

interface NetworkDetails {
  readonly Id: string;
  readonly Driver?: string;
  readonly Labels?: Record<string, string> | null;
  readonly Options?: Record<string, string> | null;
  readonly Containers?: Record<string, unknown> | null;
}

function isIsolated(n: NetworkDetails): boolean {
  return n.Driver === 'bridge' && n.Options?.[ICC_OPTION] === 'false';
}

/** Docker names a user bridge `br-` and the network id's first 12 characters unless told otherwise. */
function bridgeInterface(n: NetworkDetails): string | undefined {
  if (n.Driver !== 'bridge') return undefined;
  return n.Options?.[BRIDGE_NAME_OPTION] ?? `br-${n.Id.slice(0, 12)}`;
}

export class DockerContainerRuntime implements ContainerRuntime {
  private readonly docker: Docker;
  private readonly removeSlots = new Semaphore(MAX_CONCURRENT_REMOVALS);

  constructor(private readonly opts: DockerRuntimeOptions) {
    this.docker = new Docker(dockerConnection(opts.dockerHost));
  }

  async start(spec: ContainerSpec, output?: OutputSink): Promise<ContainerId> {
    const container = await this.call('create container', () => this.docker.createContainer(toCreateOptions(spec)));
    const id = container.id as ContainerId;
    try {
      // Attached before start, so no early output (init logs) is lost.
      if (output) await this.call('attach container', () => this.attach(container, output));
      await this.call('start container', () => container.start());
      return id;
    } catch (e) {
      // Leave nothing half-created behind (style.md 3.5.6).
      await this.destroy(id).catch(() => undefined);
      throw e;
    }
  }

  private async attach(container: Docker.Container, output: OutputSink): Promise<void> {
    const stream = (await container.attach({ stream: true, stdout: true, stderr: true, logs: false })) as NodeJS.ReadableStream;
    const sink = (name: 'stdout' | 'stderr') =>
      new Writable({
        write(chunk: Buffer, _enc, cb) {
          output(name, chunk);
          cb();
        },
      });
    this.docker.modem.demuxStream(stream, sink('stdout'), sink('stderr'));
    // The stream ends with the container; an error on it only means the output is gone.
    stream.on('error', () => undefined);
  }

  async waitForExit(id: ContainerId): Promise<ContainerExit> {
    // No deadline: this resolves when the container stops, which may be hours from now. While the
    // engine is unreachable (restarting) the container may well be running on, serving over its
    // socket: keep asking rather than declare it dead.
    for (let backoffMs = 500; ; backoffMs = Math.min(backoffMs * 2, 5_000)) {
      try {
        const r = (await this.docker.getContainer(id).wait()) as { StatusCode?: number };
        const info = await this.call('inspect container', () => this.docker.getContainer(id).inspect()).catch(() => undefined);
        return { exitCode: r.StatusCode ?? null, oomKilled: info?.State.OOMKilled ?? false };
      } catch (e) {
        const err = translate(e, 'wait container');
        if (err.kind === 'not-found') return { exitCode: null, oomKilled: false };
        if (err.kind !== 'engine-unavailable') throw err;
        await new Promise((r) => setTimeout(r, backoffMs).unref());
      }
    }
  }

  async destroy(id: ContainerId): Promise<void> {
    try {
      await this.removeSlots.run(() => this.call('remove container', () => this.docker.getContainer(id).remove({ force: true, v: true })));
    } catch (e) {
      const kind = e instanceof ContainerRuntimeError ? e.kind : translate(e, 'remove').kind;
      // Already gone, or already being removed by an earlier call: both are success.
      if (kind === 'not-found' || kind === 'conflict') return;
      throw e;
    }
  }

  async listManaged(labels: Readonly<Record<string, string>>, opts: { readonly exitedOnly?: boolean } = {}): Promise<readonly ManagedContainer[]> {
    const filters = { label: Object.entries(labels).map(([k, v]) => `${k}=${v}`), ...(opts.exitedOnly === true ? { status: ['exited', 'dead'] } : {}) };
    const list = await this.call('list containers', () => this.docker.listContainers({ all: true, filters }));
    return list.map((c) => ({ id: c.Id as ContainerId, labels: c.Labels }));
  }

  async inspectImage(image: string): Promise<ImageInfo | undefined> {
    try {
      const info = await this.call('inspect image', () => this.docker.getImage(image).inspect());
      return { labels: info.Config.Labels ?? {} };
    } catch (e) {
      if (e instanceof ContainerRuntimeError && e.kind === 'not-found') return undefined;
      throw e;
    }
  }

  async ensureNetwork(name: string, labels: Readonly<Record<string, string>>): Promise<FunctionNetwork> {
    const existing = await this.call('list networks', () => this.docker.listNetworks({ filters: { name: [name] } }));
    const same = existing.filter((n) => n.Name === name);
    if (same.length > 1) await this.removeDuplicateNetworks(same);
    let info = same.length > 0 ? await this.inspectNetwork(name) : undefined;
    if (info && !isIsolated(info) && info.Labels?.['gantry.managed'] === 'true' && Object.keys(info.Containers ?? {}).length === 0) {
      // Made by a Gantry that allowed inter-container traffic: Docker cannot change a bridge's
      // options in place, and an unused network loses nothing by being made again. One that
      // containers still use stays as it is (reported not isolated) until a start finds it empty.
      await this.call('remove network', () => this.docker.getNetwork(info?.Id ?? name).remove()).catch(() => undefined);
      info = undefined;
    }
    if (!info) {
      try {
        // CheckDuplicate: without it the engine happily creates a second network of the same name
        // when several control planes start at once, and every container naming it then fails
        // ("network … is ambiguous").
        await this.call('create network', () =>
          this.docker.createNetwork({ Name: name, Driver: 'bridge', CheckDuplicate: true, Labels: { ...labels }, Options: { [ICC_OPTION]: 'false' } }),
        );
      } catch (e) {
        // Created concurrently by another node or test: fine.
        if (!(e instanceof ContainerRuntimeError && e.kind === 'conflict')) throw e;
      }
      info = await this.inspectNetwork(name);
    }
    return { bridge: bridgeInterface(info), isolated: isIsolated(info) };
  }

  private inspectNetwork(name: string): Promise<NetworkDetails> {
    return this.call('inspect network', () => this.docker.getNetwork(name).inspect()) as Promise<NetworkDetails>;
  }

  async networkGateway(name: string): Promise<string | undefined> {
    const info = (await this.call('inspect network', () => this.docker.getNetwork(name).inspect())) as { IPAM?: { Config?: { Gateway?: string }[] } };
    return info.IPAM?.Config?.find((c) => typeof c.Gateway === 'string' && c.Gateway !== '')?.Gateway;
  }

  /** Keeps the oldest of several same-named networks (left by an engine without the duplicate check). */
  private async removeDuplicateNetworks(same: readonly Docker.NetworkInspectInfo[]): Promise<void> {
    const newestFirst = [...same].sort((a, b) => Date.parse(b.Created) - Date.parse(a.Created));
    for (const n of newestFirst.slice(0, -1)) {
      // Best effort: a network some container still uses stays, and the next start tries again.
      await this.call('remove network', () => this.docker.getNetwork(n.Id).remove()).catch(() => undefined);
    }
  }

  async ping(): Promise<boolean> {
    try {
      await withDeadline(this.docker.ping(), Math.min(this.opts.callTimeoutMs, 2_000), 'docker ping');
      return true;
    } catch {
      return false;
    }
  }

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await withDeadline(fn(), this.opts.callTimeoutMs, `docker ${what}`);
    } catch (e) {
      throw translate(e, what);
    }
  }
}

function toCreateOptions(spec: ContainerSpec): Docker.ContainerCreateOptions {
  const memoryBytes = spec.limits.memoryMb * 1024 * 1024;
  return {
    name: spec.name,
    Image: spec.image,
    Labels: { ...spec.labels },
    Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
    User: spec.user,
    HostConfig: {
      Memory: memoryBytes,
      MemorySwap: memoryBytes, // equal to Memory: no swap
      CpuShares: spec.limits.cpuShares,
      PidsLimit: spec.limits.pids,
      ReadonlyRootfs: true,
      // No /dev/shm (Docker's default is a writable 64 MB tmpfs): /tmp is the only writable place, as on Lambda.
      IpcMode: 'none',
      Tmpfs: { '/tmp': `rw,nosuid,nodev,size=${spec.limits.tmpfsMb}m,mode=1777` },
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      NetworkMode: spec.network.mode === 'none' ? 'none' : spec.network.name,
      Binds: spec.mounts.map((m) => `${m.hostPath}:${m.containerPath}:${m.readOnly ? 'ro' : 'rw'}`),
      // Output is captured through the attach stream; Docker keeps no copy on disk.
      LogConfig: { Type: 'none', Config: {} },
      AutoRemove: false,
    },
  };
}

function dockerConnection(dockerHost: string | undefined): Docker.DockerOptions {
  if (dockerHost === undefined || dockerHost === '') return { socketPath: '/var/run/docker.sock' };
  const url = new URL(dockerHost);
  if (url.protocol === 'unix:') return { socketPath: url.pathname };
  return { host: url.hostname, port: Number(url.port || 2375), protocol: 'http' };
}

function translate(e: unknown, what: string): ContainerRuntimeError {
  if (e instanceof ContainerRuntimeError) return e;
  if (e instanceof DeadlineExceededError) return new ContainerRuntimeError('timeout', e.message, { cause: e });
  const status = (e as { statusCode?: number }).statusCode;
  const code = (e as { code?: string }).code;
  const msg = `docker ${what} failed: ${(e as Error).message ?? String(e)}`;
  if (status === 404) {
    const isImage = /image/i.test((e as Error).message ?? '') && what.includes('create');
    return new ContainerRuntimeError(isImage ? 'image-missing' : 'not-found', msg, { cause: e });
  }
  if (status === 409) return new ContainerRuntimeError('conflict', msg, { cause: e });
  if (code === 'ECONNREFUSED' || code === 'ENOENT' || code === 'EPIPE' || code === 'ECONNRESET') {
    return new ContainerRuntimeError('engine-unavailable', msg, { cause: e });
  }
  return new ContainerRuntimeError('failed', msg, { cause: e });
}
