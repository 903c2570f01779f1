/**
 * The node-local cache of extracted code, one read-only directory per archive sha256 under
 * $GANTRY_DATA_DIR/code. Extraction goes to a temporary sibling and is renamed into place, so a
 * directory that exists is always complete; concurrent installs of one archive are coalesced.
 * Directories are removed by the code GC (code-gc.ts) only when unused: never one being installed
 * or handed out within the last `recentMs`.
 */
import { randomBytes } from 'node:crypto';
import { access, mkdir, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { extractZip, type ZipLimits } from './zip-archive.js';

export interface CodeCacheOptions {
  readonly rootDir: string;
  readonly limits: ZipLimits;
}

const SHA256_DIR = /^[0-9a-f]{64}$/;

export class CodeCache {
  private readonly inFlight = new Map<string, Promise<string>>();
  /** When each directory was last handed out (a cold start or a create), by sha256. */
  private readonly lastUsedMs = new Map<string, number>();

  constructor(private readonly opts: CodeCacheOptions) {}

  dirFor(sha256: string): string {
    return path.join(this.opts.rootDir, sha256);
  }

  /** The extracted directory for `sha256`, extracting `loadZip()` first when absent. */
  async ensure(sha256: string, loadZip: () => Promise<Buffer>): Promise<string> {
    const dir = this.dirFor(sha256);
    this.lastUsedMs.set(sha256, Date.now());
    if (await exists(dir)) return dir;
    let pending = this.inFlight.get(sha256);
    if (pending === undefined) {
      pending = this.install(sha256, loadZip).finally(() => this.inFlight.delete(sha256));
      this.inFlight.set(sha256, pending);
    }
    return pending;
  }

  /** The sha256 of every installed directory. */
  async installed(): Promise<string[]> {
    const names = await readdir(this.opts.rootDir).catch((e: unknown) => {
      if ((e as { code?: string }).code === 'ENOENT') return [] as string[];
      throw e;
    });
    return names.filter((n) => SHA256_DIR.test(n));
  }

  /** Installing now, or handed out less than `recentMs` ago: not to be removed. */
  isBusy(sha256: string, recentMs: number): boolean {
    return this.inFlight.has(sha256) || Date.now() - (this.lastUsedMs.get(sha256) ?? 0) < recentMs;
  }

  /**
   * Removes an installed directory: renamed away first (one step, so `ensure` sees it whole or
   * not at all), then deleted. Returns false when it was not there.
   */
  async remove(sha256: string): Promise<boolean> {
    if (this.inFlight.has(sha256)) return false;
    const trash = path.join(this.opts.rootDir, `.gc-${sha256}-${randomBytes(4).toString('hex')}`);
    try {
      await rename(this.dirFor(sha256), trash);
    } catch (e) {
      if ((e as { code?: string }).code === 'ENOENT') return false;
      throw e;
    }
    this.lastUsedMs.delete(sha256);
    await rm(trash, { recursive: true, force: true });
    return true;
  }

  private async install(sha256: string, loadZip: () => Promise<Buffer>): Promise<string> {
    const dir = this.dirFor(sha256);
    await mkdir(this.opts.rootDir, { recursive: true, mode: 0o755 });
    const tmp = path.join(this.opts.rootDir, `.tmp-${sha256}-${randomBytes(4).toString('hex')}`);
    try {
      await extractZip(await loadZip(), tmp, this.opts.limits);
      await rename(tmp, dir).catch(async (e: unknown) => {
        // Another process installed the same archive first; its copy is identical.
        if (!(await exists(dir))) throw e;
      });
      return dir;
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await access(p);
    return true;
  } catch {
    return false;
  }
}
