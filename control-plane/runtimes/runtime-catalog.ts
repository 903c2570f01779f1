/**
 * Which runtimes this node can run: the known ids, each backed by a local image whose labels
 * carry the real language version (set by `npm run images`). Image presence is looked up on
 * demand and cached briefly; it is never consulted per invocation.
 */
import type { ContainerRuntime } from '../containers/container-runtime.js';

interface RuntimeDefinition {
  readonly id: string;
  /** What Lambda calls the same runtime; accepted wherever an id is and stored as the id. */
  readonly awsNames: readonly string[];
  /** The runtime client asks for its function at start (GET /gantry/v1/specialize). */
  readonly specializable: boolean;
  /** The day upstream support ended (YYYY-MM-DD). A deprecated runtime still runs. */
  readonly deprecated?: string;
}

/** Lambda's own ids where they exist, newest line of each language last. */
const DEFINITIONS: readonly RuntimeDefinition[] = [
  { id: 'nodejs20', awsNames: ['nodejs20.x'], specializable: true, deprecated: '2026-04-30' },
  { id: 'nodejs22', awsNames: ['nodejs22.x'], specializable: true },
  { id: 'nodejs24', awsNames: ['nodejs24.x'], specializable: true },
  { id: 'python3.11', awsNames: [], specializable: true },
  { id: 'python3.13', awsNames: [], specializable: true },
  { id: 'ruby3.3', awsNames: [], specializable: true },
  // A stem cell is a started JVM with the runtime's JSON machinery loaded, waiting for its class.
  { id: 'java21', awsNames: [], specializable: true },
  // Gantry's provided image is Debian, not Amazon Linux; a bootstrap built for either runs on it.
  // go1.x (retired by Lambda) ran the executable its handler names: a zip without a bootstrap
  // runs that executable here (gantry-relay), so a go1.x function moves over as it is.
  { id: 'provided', awsNames: ['provided.al2023', 'provided.al2', 'go1.x'], specializable: false },
  // C# on Mono: assemblies for .NET Framework 4.x / netstandard2.0. Not an AWS runtime, so no AWS name.
  { id: 'dotnet-mono', awsNames: [], specializable: true },
  // Built only from official images, so present only where a registry was reachable at build time.
  { id: 'dotnet8', awsNames: [], specializable: false },
  { id: 'powershell', awsNames: [], specializable: false },
];

export const KNOWN_RUNTIMES: readonly string[] = DEFINITIONS.map((d) => d.id);

const BY_NAME: ReadonlyMap<string, RuntimeDefinition> = new Map(
  DEFINITIONS.flatMap((d) => [d.id, ...d.awsNames].map((name) => [name, d] as const)),
);

/** The Gantry id for a runtime id or its AWS name; undefined when neither is known. */
export function canonicalRuntime(name: string): string | undefined {
  return BY_NAME.get(name)?.id;
}

/** What Lambda calls a Gantry runtime id (its first AWS name), else the id itself. */
export function awsRuntimeName(id: string): string {
  return BY_NAME.get(id)?.awsNames[0] ?? id;
}

export interface RuntimeInfo {
  readonly id: string;
  readonly image: string;
  readonly version: string;
  readonly deprecated?: string;
}

const CACHE_MS = 5_000;

export class RuntimeCatalog {
  private cached: { atMs: number; list: Promise<RuntimeInfo[]> } | undefined;

  constructor(
    private readonly containers: ContainerRuntime,
    private readonly imagePrefix: string,
  ) {}

  isKnown(id: string): boolean {
    return BY_NAME.has(id);
  }

  canSpecialize(id: string): boolean {
    return BY_NAME.get(id)?.specializable ?? false;
  }

  imageFor(runtime: string): string {
    return `${this.imagePrefix}${runtime}:latest`;
  }

  /** The runtimes that keep stem cells: those `wanted` (default: all) that can be specialised and are present. */
  async stemCellRuntimes(wanted: readonly string[] | undefined): Promise<string[]> {
    const present = (await this.available()).map((r) => r.id).filter((id) => this.canSpecialize(id));
    return wanted === undefined ? present : present.filter((id) => wanted.includes(id));
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
      DEFINITIONS.map(async ({ id, deprecated }): Promise<RuntimeInfo | undefined> => {
        const image = this.imageFor(id);
        const info = await this.containers.inspectImage(image);
        if (info === undefined) return undefined;
        const version = info.labels['gantry.runtime.version'] ?? 'unknown';
        return deprecated === undefined ? { id, image, version } : { id, image, version, deprecated };
      }),
    );
    return found.filter((r): r is RuntimeInfo => r !== undefined);
  }
}
