/**
 * The scheduler's live environments, indexed the two ways the invocation path looks them up: by
 * function version (a warm call looks only at its own version's environments) and, for stem
 * cells, by shape (a cold call looks only at cells it could use). The indexes are kept in step on
 * the three events that change them: an environment is added, a stem cell is bound to a version,
 * an environment is removed. Nothing here decides anything; placement.ts does.
 */
import type { Environment, EnvironmentId } from './environment.js';
import { stemCellKeyString, type StemCellKey } from './environment-starter.js';

export class EnvironmentIndex {
  private readonly all = new Map<EnvironmentId, Environment>();
  private readonly byVersion = new Map<number, Set<Environment>>();
  private readonly cellsByShape = new Map<string, Set<Environment>>();

  get size(): number {
    return this.all.size;
  }

  values(): IterableIterator<Environment> {
    return this.all.values();
  }

  get(id: EnvironmentId): Environment | undefined {
    return this.all.get(id);
  }

  add(env: Environment): void {
    this.all.set(env.id, env);
    if (env.versionId === undefined) addTo(this.cellsByShape, stemCellKeyString(env.stemKey()), env);
    else addTo(this.byVersion, env.versionId, env);
  }

  /** A stem cell was just bound (`env.bind`): it moves from its shape to its version. */
  bound(env: Environment): void {
    removeFrom(this.cellsByShape, stemCellKeyString(env.stemKey()), env);
    if (env.versionId !== undefined) addTo(this.byVersion, env.versionId, env);
  }

  delete(env: Environment): void {
    if (!this.all.delete(env.id)) return;
    removeFrom(this.cellsByShape, stemCellKeyString(env.stemKey()), env);
    if (env.versionId !== undefined) removeFrom(this.byVersion, env.versionId, env);
  }

  /** Environments of one function version, in any state. */
  ofVersion(versionId: number): Iterable<Environment> {
    return this.byVersion.get(versionId) ?? EMPTY;
  }

  /** Unbound stem cells of one shape, in any state. */
  cellsOf(key: StemCellKey): Iterable<Environment> {
    return this.cellsByShape.get(stemCellKeyString(key)) ?? EMPTY;
  }
}

const EMPTY: ReadonlySet<Environment> = new Set();

function addTo<K>(index: Map<K, Set<Environment>>, key: K, env: Environment): void {
  let set = index.get(key);
  if (!set) index.set(key, (set = new Set()));
  set.add(env);
}

function removeFrom<K>(index: Map<K, Set<Environment>>, key: K, env: Environment): void {
  const set = index.get(key);
  if (!set?.delete(env)) return;
  if (set.size === 0) index.delete(key);
}
