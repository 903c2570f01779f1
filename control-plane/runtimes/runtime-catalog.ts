/**
 * Which runtimes this node can run: the known ids, each backed by a local image whose labels
 * carry the real language version (set by `npm run images`). Image presence is looked up on
 * demand and cached briefly; it is never consulted per invocation.
 */
import type { ContainerRuntime } from '../containers/container-runtime.js';

export const KNOWN_RUNTIMES = ['nodejs20', 'python3.11', 'provided'] as const;
export type RuntimeId = (typeof KNOWN_RUNTIMES)[number];

/** Runtimes whose client asks for its function at start (GET /gantry/v1/specialize). */
const SPECIALIZABLE: ReadonlySet<string> = new Set(['nodejs20', 'python3.11']);

export interface RuntimeInfo {
  readonly id: string;
  readonly image: string;
  readonly version: string;
}

const CACHE_MS = 5_000;

export class RuntimeCatalog {
  private cached: { atMs: number; list: Promise<RuntimeInfo[]> } | undefined;

  constructor(
    private readonly containers: ContainerRuntime,
    private readonly imagePrefix: string,
  ) {}

  isKnown(id: string): id is RuntimeId {
    return (KNOWN_RUNTIMES as readonly string[]).includes(id);
  }

  canSpecialize(id: string): boolean {
    return SPECIALIZABLE.has(id);
  }

  imageFor(runtime: string): string {
    return `${this.imagePrefix}${runtime}:latest`;
  }

  /** Runtimes whose image is present, with the version the image reports. */
  available(): Promise<RuntimeInfo[]> {
    const now = Date.now();
    if (!this.cached || now - this.cached.atMs > CACHE_MS) {
      const list = this.lookup();
      list.catch(() => (this.cached = undefined));
      this.cached = { atMs: now, list };
    }
    return this.cached.list;
  }

  private async lookup(): Promise<RuntimeInfo[]> {
    const found = await Promise.all(
      KNOWN_RUNTIMES.map(async (id): Promise<RuntimeInfo | undefined> => {
        const image = this.imageFor(id);
        const info = await this.containers.inspectImage(image);
        return info === undefined ? undefined : { id, image, version: info.labels['gantry.runtime.version'] ?? 'unknown' };
      }),
    );
    return found.filter((r): r is RuntimeInfo => r !== undefined);
  }
}
