/**
 * Garbage-collects code: archive rows no function version references (installation-wide), and
 * this node's extracted directories that no function's current version uses. A directory is kept
 * while a live environment of this node runs its code (a container bind-mounts it), while it is
 * being installed, or when it was handed out within the last `recentMs` (a create or a cold start
 * of a version that has just been replaced); any later need re-extracts it from its archive.
 */
import type { Logger } from '../../common/logger.js';
import type { FunctionStore } from '../functions/function-store.js';
import type { CodeCache } from './code-cache.js';
import { PeriodicPass } from '../periodic-pass.js';

export interface CodeGcDeps {
  readonly store: Pick<FunctionStore, 'deleteUnusedArchives' | 'currentCode'>;
  readonly codeCache: CodeCache;
  /** The sha256 of the code of every live environment of this node. */
  readonly inUse: () => ReadonlySet<string>;
  readonly logger: Logger;
}

export interface CodeGcOptions {
  readonly intervalMs: number;
  readonly recentMs: number;
}

export interface CodeGcPass {
  readonly archives: number;
  readonly dirs: number;
}

export class CodeGc extends PeriodicPass<CodeGcPass> {
  constructor(
    private readonly deps: CodeGcDeps,
    private readonly opts: CodeGcOptions,
  ) {
    super({
      intervalMs: opts.intervalMs,
      onError: (e) => {
        deps.logger.warn({ err: e as Error }, 'code GC failed; the next pass tries again');
        return { archives: 0, dirs: 0 };
      },
    });
  }

  protected async pass(): Promise<CodeGcPass> {
    const archives = (await this.deps.store.deleteUnusedArchives()).length;
    const installed = await this.deps.codeCache.installed();
    const current = await this.deps.store.currentCode(installed);
    const inUse = this.deps.inUse();
    let dirs = 0;
    for (const sha of installed) {
      if (current.has(sha) || inUse.has(sha) || this.deps.codeCache.isBusy(sha, this.opts.recentMs)) continue;
      if (await this.deps.codeCache.remove(sha)) dirs++;
    }
    if (archives + dirs > 0) this.deps.logger.info({ archives, dirs }, 'unused code removed');
    return { archives, dirs };
  }
}
