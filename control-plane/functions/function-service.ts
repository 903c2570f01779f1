/**
 * Function lifecycle for the admin API: validates code (zip safety, limits, handler module),
 * installs it in the node-local cache, persists a new version, then makes the change visible:
 * the local cache forgets the old version and its environments are retired before the call
 * returns, so no invocation starting afterwards can run the old code; other nodes hear it on
 * Redis.
 */
import { createHash } from 'node:crypto';
import type { Logger } from '../../common/logger.js';
import { GantryError } from '../../common/errors.js';
import type { CodeCache } from '../code/code-cache.js';
import { API_ZIP_LIMITS, readZipManifest, type ZipManifest } from '../code/zip-archive.js';
import { missingHandlerModule } from '../runtimes/handler-check.js';
import { canonicalRuntime, type RuntimeCatalog } from '../runtimes/runtime-catalog.js';
import type { Scheduler } from '../scheduler/scheduler.js';
import type { CodeArchive, FunctionStore } from './function-store.js';
import type { FunctionCache } from './function-cache.js';
import type { FunctionConfigPatch, FunctionRecord, FunctionSettings, TenantId } from './function-types.js';

export interface FunctionServiceDeps {
  readonly store: FunctionStore;
  readonly cache: FunctionCache;
  readonly codeCache: CodeCache;
  readonly catalog: RuntimeCatalog;
  readonly scheduler: Scheduler;
  /** Tells every other node and gateway that configuration changed. */
  readonly publishChange: () => Promise<void>;
  readonly logger: Logger;
}

export interface CreateFunctionInput extends FunctionSettings {
  readonly name: string;
  readonly zip: Buffer;
}

export class FunctionService {
  constructor(private readonly deps: FunctionServiceDeps) {}

  async create(tenantId: TenantId, given: CreateFunctionInput): Promise<FunctionRecord> {
    const input = { ...given, runtime: canonicalRuntime(given.runtime) ?? given.runtime };
    await this.checkRuntime(input.runtime);
    // A name that exists is a 409 before any extraction. Two creates racing past this check still
    // get one 409 from the store's unique key; the loser's directory is left to the code GC.
    if ((await this.deps.store.get(tenantId, input.name)) !== undefined) throw nameTaken(input.name);
    const code = await this.prepareCode(input.zip, input.runtime, input.handler);
    const record = await this.deps.store.create({ tenantId, ...input, code });
    await this.changed(record);
    return record;
  }

  async replaceCode(tenantId: TenantId, name: string, zip: Buffer): Promise<FunctionRecord> {
    const current = await this.deps.store.require(tenantId, name);
    const code = await this.prepareCode(zip, current.runtime, current.handler);
    const record = await this.deps.store.replaceCode(tenantId, name, code);
    await this.changed(record);
    return record;
  }

  async patch(tenantId: TenantId, name: string, given: FunctionConfigPatch): Promise<FunctionRecord> {
    const patch = given.runtime === undefined ? given : { ...given, runtime: canonicalRuntime(given.runtime) ?? given.runtime };
    const current = await this.deps.store.require(tenantId, name);
    if (patch.runtime !== undefined) await this.checkRuntime(patch.runtime);
    const runtime = patch.runtime ?? current.runtime;
    const handler = patch.handler ?? current.handler;
    if (runtime !== current.runtime || handler !== current.handler) {
      const zip = await this.deps.store.getArchive(current.codeSha256);
      if (zip === undefined) throw new GantryError('InternalError', 'The function code is missing.', { component: 'store' });
      checkHandler(await readZipManifest(zip, API_ZIP_LIMITS), runtime, handler);
    }
    const record = await this.deps.store.patch(tenantId, name, patch);
    // Only concurrency settings changed: the version, and so its warm environments, stay.
    await this.changed(record, record.versionId !== current.versionId);
    return record;
  }

  /** Its archives go at once when no other function uses them; its directories at the next code GC. */
  async delete(tenantId: TenantId, name: string): Promise<void> {
    const current = await this.deps.store.require(tenantId, name);
    const shas = await this.deps.store.codeOf(current.functionId);
    const record = await this.deps.store.delete(tenantId, name);
    await this.changed(record);
    await this.deps.store.deleteUnusedArchives(shas).catch((e: unknown) => this.deps.logger.warn({ err: e as Error }, 'archives of a deleted function not removed; the code GC will'));
  }

  /** Validates the zip and installs it in the code cache before anything is stored. */
  private async prepareCode(zip: Buffer, runtime: string, handler: string): Promise<CodeArchive> {
    const manifest = await readZipManifest(zip, API_ZIP_LIMITS);
    checkHandler(manifest, runtime, handler);
    const sha256 = createHash('sha256').update(zip).digest('hex');
    // Extracting now enforces the real (not declared) unzipped size and warms this node's cache.
    await this.deps.codeCache.ensure(sha256, () => Promise.resolve(zip));
    return { sha256, zip, unzippedBytes: manifest.declaredUnzippedBytes };
  }

  private async checkRuntime(runtime: string): Promise<void> {
    const available = await this.deps.catalog.available();
    if (available.some((r) => r.id === runtime)) return;
    const ids = available.map((r) => r.id).join(', ') || 'none';
    const why = this.deps.catalog.isKnown(runtime) ? 'is not installed on this node' : 'is not a known runtime';
    throw new GantryError('ValidationError', `Runtime "${runtime}" ${why}; available: ${ids}.`, { component: 'admin-api' });
  }

  private async changed(record: FunctionRecord, newVersion = true): Promise<void> {
    this.deps.cache.invalidateAll();
    if (newVersion) this.deps.scheduler.retire(record.functionId);
    await this.deps.publishChange().catch((e: unknown) => {
      // Other nodes still converge: they resync on reconnect; this node is already up to date.
      this.deps.logger.warn({ err: e as Error }, 'config change not published');
    });
  }
}

function checkHandler(manifest: ZipManifest, runtime: string, handler: string): void {
  const problem = missingHandlerModule(runtime, handler, manifest.entries);
  if (problem !== undefined) throw new GantryError('ValidationError', problem, { component: 'admin-api' });
}

function nameTaken(name: string): GantryError {
  return new GantryError('ResourceConflict', `Function "${name}" already exists.`, { component: 'admin-api' });
}
