/**
 * How many stem cells to keep, per (runtime, memory, network): the configured size for each
 * runtime's default shape, plus one for each of the few shapes recently asked for without a cell
 * ready. Refills run in the background, one start at a time per pass, and only where the node
 * budget has room; a failing start backs off instead of retrying in a loop.
 */
import { stemCellKeyString, type StemCellKey } from './environment-starter.js';

export interface StemCellPoolOptions {
  /** Cells kept per default shape; 0 turns stem cells off. */
  readonly perRuntime: number;
  readonly defaultMemoryMb: number;
  /** How many other recently demanded shapes are kept warm (one cell each). */
  readonly maxLearnedShapes: number;
}

export class StemCellPool {
  private readonly learned = new Map<string, StemCellKey>();

  constructor(private readonly opts: StemCellPoolOptions) {}

  get enabled(): boolean {
    return this.opts.perRuntime > 0;
  }

  /** A cold start of `key` found no cell: keep one of that shape from now on (LRU-bounded). */
  noteDemand(key: StemCellKey): void {
    if (!this.enabled || (key.memoryMb === this.opts.defaultMemoryMb && key.network === 'default')) return;
    const id = stemCellKeyString(key);
    this.learned.delete(id);
    this.learned.set(id, key);
    while (this.learned.size > this.opts.maxLearnedShapes) {
      const oldest = this.learned.keys().next().value as string;
      this.learned.delete(oldest);
    }
  }

  /** Target count per shape, for the runtimes that can specialise. */
  targets(runtimes: readonly string[]): { key: StemCellKey; count: number }[] {
    if (!this.enabled) return [];
    const out: { key: StemCellKey; count: number }[] = runtimes.map((runtime) => ({
      key: { runtime, memoryMb: this.opts.defaultMemoryMb, network: 'default' },
      count: this.opts.perRuntime,
    }));
    for (const key of this.learned.values()) if (runtimes.includes(key.runtime)) out.push({ key, count: 1 });
    return out;
  }
}
