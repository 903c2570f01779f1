/**
 * The node-local cache of extracted code, one read-only directory per archive sha256 under
 * $GANTRY_DATA_DIR/code. Extraction goes to a temporary sibling and is renamed into place, so a
 * directory that exists is always complete; concurrent installs of one archive are coalesced.
 */
import { randomBytes } from 'node:crypto';
import { access, mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { extractZip, type ZipLimits } from './zip-archive.js';

export interface CodeCacheOptions {
  readonly rootDir: string;
  readonly limits: ZipLimits;
}

export class CodeCache {
  private readonly inFlight = new Map<string, Promise<string>>();

  constructor(private readonly opts: CodeCacheOptions) {}

  dirFor(sha256: string): string {
    return path.join(this.opts.rootDir, sha256);
  }

  /** The extracted directory for `sha256`, extracting `loadZip()` first when absent. */
  async ensure(sha256: string, loadZip: () => Promise<Buffer>): Promise<string> {
    const dir = this.dirFor(sha256);
    if (await exists(dir)) return dir;
    let pending = this.inFlight.get(sha256);
    if (pending === undefined) {
      pending = this.install(sha256, loadZip).finally(() => this.inFlight.delete(sha256));
      this.inFlight.set(sha256, pending);
    }
    return pending;
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
