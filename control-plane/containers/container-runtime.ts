/**
 * The seam between the scheduler and whatever runs containers (style.md 3.4). Docker is the first
 * implementation; the scheduler sees only these plain types, never dockerode's.
 */

export type ContainerId = string & { readonly __brand: 'ContainerId' };

export interface ContainerSpec {
  readonly name: string;
  readonly image: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly env: Readonly<Record<string, string>>;
  readonly limits: { readonly memoryMb: number; readonly cpuShares: number; readonly pids: number; readonly tmpfsMb: number };
  /** Non-root `uid:gid`. */
  readonly user: string;
  readonly network: { readonly mode: 'none' } | { readonly mode: 'network'; readonly name: string };
  readonly mounts: readonly { readonly hostPath: string; readonly containerPath: string; readonly readOnly: boolean }[];
}

export interface ContainerExit {
  readonly exitCode: number | null;
  readonly oomKilled: boolean;
}

export interface ManagedContainer {
  readonly id: ContainerId;
  readonly labels: Readonly<Record<string, string>>;
}

export interface ImageInfo {
  readonly labels: Readonly<Record<string, string>>;
}

export interface FunctionNetwork {
  /** The host's interface of the bridge, which host firewall rules name; undefined off a bridge. */
  readonly bridge: string | undefined;
  /** False when containers on it can reach each other (a network Gantry may not recreate). */
  readonly isolated: boolean;
}

export type ContainerRuntimeErrorKind = 'not-found' | 'conflict' | 'engine-unavailable' | 'image-missing' | 'timeout' | 'failed';

export class ContainerRuntimeError extends Error {
  override readonly name = 'ContainerRuntimeError';
  constructor(
    readonly kind: ContainerRuntimeErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Receives a container's stdout/stderr as it arrives. Must not block: it is called from the stream. */
export type OutputSink = (stream: 'stdout' | 'stderr', chunk: Buffer) => void;

export interface ContainerRuntime {
  /** Create and start. Resolves once the process runs (readiness arrives over the Runtime API).
   *  Output from the first byte on goes to `output` (one stream per container, never per call).
   *  Rejects with ContainerRuntimeError and leaves nothing behind. */
  start(spec: ContainerSpec, output?: OutputSink): Promise<ContainerId>;
  /** Resolves when the container stops, for whatever reason (a container that does not exist has
   *  stopped: exitCode null). One long-lived call per container, never per invocation. */
  waitForExit(id: ContainerId): Promise<ContainerExit>;
  /** Kill and remove. Idempotent: a container already gone counts as success. */
  destroy(id: ContainerId): Promise<void>;
  /** Containers carrying every given label, for the orphan sweep at start; with `exitedOnly`,
   *  only those that have stopped (exited or dead), for the periodic sweep. */
  listManaged(labels: Readonly<Record<string, string>>, opts?: { readonly exitedOnly?: boolean }): Promise<readonly ManagedContainer[]>;
  /** Undefined when the image is not present locally. */
  inspectImage(image: string): Promise<ImageInfo | undefined>;
  /** Creates a bridge network without inter-container traffic when missing; idempotent. One
   *  Gantry created earlier with traffic allowed is recreated once no container uses it. */
  ensureNetwork(name: string, labels: Readonly<Record<string, string>>): Promise<FunctionNetwork>;
  /** The host's address on a bridge network (its gateway), as containers on it reach the host.
   *  Rejects with not-found when there is no such network. */
  networkGateway(name: string): Promise<string | undefined>;
  /** Cheap liveness probe of the engine, for /readyz. */
  ping(): Promise<boolean>;
}
