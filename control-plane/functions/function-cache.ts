/**
 * The hot path's view of functions: current versions by name, with their published versions and
 * aliases, loaded from Postgres once and kept
 * until a change notification (Redis pub/sub) or a local update clears it. An invocation never
 * waits on Postgres unless the function was just changed or never invoked on this node.
 */
import type { InvocableFunction, TenantId } from './function-types.js';

export type LoadFunction = (tenantId: TenantId, name: string) => Promise<InvocableFunction | undefined>;

export class FunctionCache {
  private entries = new Map<string, Promise<InvocableFunction | undefined>>();
  private generation = 0;

  constructor(private readonly load: LoadFunction) {}

  get(tenantId: TenantId, name: string): Promise<InvocableFunction | undefined> {
    const key = `${tenantId}\u0000${name}`;
    const hit = this.entries.get(key);
    if (hit) return hit;
    const generation = this.generation;
    const loading = this.load(tenantId, name);
    this.entries.set(key, loading);
    // A failed load is not cached, and neither is one that raced with an invalidation.
    loading.then(
      () => {
        if (generation !== this.generation && this.entries.get(key) === loading) this.entries.delete(key);
      },
      () => {
        if (this.entries.get(key) === loading) this.entries.delete(key);
      },
    );
    return loading;
  }

  /** Forget everything: called on any config change, anywhere. */
  invalidateAll(): void {
    this.generation += 1;
    this.entries = new Map();
  }
}
