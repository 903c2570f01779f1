/**
 * Function lifecycle for the admin API and the Lambda API: validates code (zip safety, limits),
 * installs it in the node-local cache, persists a new version, then makes the change visible:
 * the local cache forgets the old version and the environments of $LATEST are retired before
 * the call returns, so no invocation starting afterwards can run the old code; other nodes hear
 * it on Redis. Published versions are immutable: only deleting one (or the function) retires
 * its environments. A handler module the zip lacks is a warning, as on Lambda (layers or a
 * later update may bring it); the invoke then fails with Runtime.ImportModuleError.
 */
import { createHash } from 'node:crypto';
import type { Logger } from '../../common/logger.js';
import { GantryError } from '../../common/errors.js';
import type { CodeCache } from '../code/code-cache.js';
import { API_ZIP_LIMITS, readZipManifest, type ZipManifest } from '../code/zip-archive.js';
import { missingHandlerModule } from '../runtimes/handler-check.js';
import { canonicalRuntime, type RuntimeCatalog } from '../runtimes/runtime-catalog.js';
import type { Scheduler } from '../scheduler/scheduler.js';
import type { CodeArchive, FunctionStore, Precondition } from './function-store.js';
import type { FunctionCache } from './function-cache.js';
import { type AliasRecord, type FunctionConfigPatch, type FunctionRecord, type FunctionSettings, type PublishedVersion, type ResolvedFunction, type TenantId } from './function-types.js';
import { resolveQualifier } from './qualifier.js';
import { aliasNotFound, versionNotFound, type AliasInput, type AliasPatch, type VersionStore } from './version-store.js';

export interface FunctionServiceDeps {
  readonly store: FunctionStore;
  readonly versions: VersionStore;
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
  readonly description?: string;
  readonly zip: Buffer;
}

/** A created or updated function, with what the deploy-time checks found but did not refuse. */
export interface DeployedFunction extends FunctionRecord {
  readonly warnings: readonly string[];
}

export interface PublishVersionInput extends Precondition {
  readonly description?: string;
  /** Hex (Gantry's form) or base64 (Lambda's CodeSha256) SHA-256 that $LATEST's code must have. */
  readonly codeSha256?: string;
}

/** Which environments a change retires: $LATEST's, one published version's, or all of them. */
export type RetireScope = 'latest' | 'all' | { readonly version: string };

export class FunctionService {
  constructor(private readonly deps: FunctionServiceDeps) {}

  async create(tenantId: TenantId, given: CreateFunctionInput): Promise<DeployedFunction> {
    const input = { ...given, runtime: canonicalRuntime(given.runtime) ?? given.runtime };
    await this.checkRuntime(input.runtime);
    // A name that exists is a 409 before any extraction. Two creates racing past this check still
    // get one 409 from the store's unique key; the loser's directory is left to the code GC.
    if ((await this.deps.store.get(tenantId, input.name)) !== undefined) throw nameTaken(input.name);
    const { code, warnings } = await this.prepareCode(input.zip, input.runtime, input.handler);
    const record = await this.deps.store.create({ tenantId, ...input, code });
    await this.changed(record, 'latest');
    return { ...record, warnings };
  }

  async replaceCode(tenantId: TenantId, name: string, zip: Buffer, pre: Precondition = {}): Promise<DeployedFunction> {
    const current = await this.deps.store.require(tenantId, name);
    const { code, warnings } = await this.prepareCode(zip, current.runtime, current.handler);
    const record = await this.deps.store.replaceCode(tenantId, name, code, pre);
    await this.changed(record, 'latest');
    return { ...record, warnings };
  }

  async patch(tenantId: TenantId, name: string, given: FunctionConfigPatch, pre: Precondition = {}): Promise<DeployedFunction> {
    const patch = given.runtime === undefined ? given : { ...given, runtime: canonicalRuntime(given.runtime) ?? given.runtime };
    const current = await this.deps.store.require(tenantId, name);
    if (patch.runtime !== undefined) await this.checkRuntime(patch.runtime);
    const runtime = patch.runtime ?? current.runtime;
    const handler = patch.handler ?? current.handler;
    let warnings: readonly string[] = [];
    if (runtime !== current.runtime || handler !== current.handler) {
      const zip = await this.deps.store.getArchive(current.codeSha256);
      if (zip === undefined) throw new GantryError('InternalError', 'The function code is missing.', { component: 'store' });
      warnings = handlerWarnings(await readZipManifest(zip, API_ZIP_LIMITS), runtime, handler);
    }
    const record = await this.deps.store.patch(tenantId, name, patch, pre);
    // Only concurrency settings or the description changed: the version, and so its warm environments, stay.
    await this.changed(record, record.versionId !== current.versionId ? 'latest' : undefined);
    return { ...record, warnings };
  }

  /** Snapshots $LATEST as the next version (or returns the newest, when $LATEST has not changed since). */
  async publishVersion(tenantId: TenantId, name: string, input: PublishVersionInput = {}): Promise<PublishedVersion> {
    const given = input.codeSha256 === undefined ? input : { ...input, codeSha256: hexSha256(input.codeSha256) };
    const { version, created } = await this.deps.versions.publish(tenantId, name, given);
    // A new immutable version: nothing running is retired.
    if (created) await this.changed(undefined, undefined);
    return version;
  }

  /** $LATEST and the published versions, oldest first. */
  async listVersions(tenantId: TenantId, name: string): Promise<{ latest: FunctionRecord; versions: PublishedVersion[] }> {
    const latest = await this.deps.store.require(tenantId, name);
    return { latest, versions: await this.deps.versions.listVersions(tenantId, name) };
  }

  async getVersion(tenantId: TenantId, name: string, version: number): Promise<PublishedVersion> {
    const v = await this.deps.versions.getVersion(tenantId, name, version);
    if (v === undefined) {
      await this.deps.store.require(tenantId, name);
      throw versionNotFound(name, version);
    }
    return v;
  }

  /** 409 while an alias routes to it; its environments go (busy ones after their call). */
  async deleteVersion(tenantId: TenantId, name: string, version: number): Promise<void> {
    const gone = await this.deps.versions.deleteVersion(tenantId, name, version);
    await this.changed(gone, { version: String(version) });
  }

  async createAlias(tenantId: TenantId, functionName: string, input: AliasInput): Promise<AliasRecord> {
    const alias = await this.deps.versions.createAlias(tenantId, functionName, input);
    await this.changed(undefined, undefined);
    return alias;
  }

  async getAlias(tenantId: TenantId, functionName: string, alias: string): Promise<AliasRecord> {
    const a = await this.deps.versions.getAlias(tenantId, functionName, alias);
    if (a === undefined) {
      await this.deps.store.require(tenantId, functionName);
      throw aliasNotFound(functionName, alias);
    }
    return a;
  }

  async listAliases(tenantId: TenantId, functionName: string): Promise<AliasRecord[]> {
    await this.deps.store.require(tenantId, functionName);
    return this.deps.versions.listAliases(tenantId, functionName);
  }

  async updateAlias(tenantId: TenantId, functionName: string, alias: string, patch: AliasPatch): Promise<AliasRecord> {
    const a = await this.deps.versions.updateAlias(tenantId, functionName, alias, patch);
    await this.changed(undefined, undefined);
    return a;
  }

  async deleteAlias(tenantId: TenantId, functionName: string, alias: string): Promise<void> {
    await this.deps.versions.deleteAlias(tenantId, functionName, alias);
    await this.changed(undefined, undefined);
  }

  /**
   * What `name` with `qualifier` ($LATEST, a number, an alias; absent is $LATEST) runs now, from
   * the function cache; an alias's weights pick one version per call.
   */
  async resolve(tenantId: TenantId, name: string, qualifier?: string): Promise<ResolvedFunction> {
    const f = await this.deps.cache.get(tenantId, name);
    if (f === undefined) throw new GantryError('ResourceNotFound', `Function not found: ${name}`, { component: 'admin-api' });
    return resolveQualifier(f, qualifier);
  }

  /** Its archives go at once when no other function uses them; its directories at the next code GC. */
  async delete(tenantId: TenantId, name: string): Promise<void> {
    const current = await this.deps.store.require(tenantId, name);
    const shas = await this.deps.store.codeOf(current.functionId);
    const record = await this.deps.store.delete(tenantId, name);
    await this.changed(record, 'all');
    await this.deps.store.deleteUnusedArchives(shas).catch((e: unknown) => this.deps.logger.warn({ err: e as Error }, 'archives of a deleted function not removed; the code GC will'));
  }

  /** Validates the zip and installs it in the code cache before anything is stored. */
  private async prepareCode(zip: Buffer, runtime: string, handler: string): Promise<{ code: CodeArchive; warnings: readonly string[] }> {
    const manifest = await readZipManifest(zip, API_ZIP_LIMITS);
    const warnings = handlerWarnings(manifest, runtime, handler);
    const sha256 = createHash('sha256').update(zip).digest('hex');
    // Extracting now enforces the real (not declared) unzipped size and warms this node's cache.
    await this.deps.codeCache.ensure(sha256, () => Promise.resolve(zip));
    return { code: { sha256, zip, unzippedBytes: manifest.declaredUnzippedBytes }, warnings };
  }

  private async checkRuntime(runtime: string): Promise<void> {
    const available = await this.deps.catalog.available();
    if (available.some((r) => r.id === runtime)) return;
    const ids = available.map((r) => r.id).join(', ') || 'none';
    const why = this.deps.catalog.isKnown(runtime) ? 'is not installed on this node' : 'is not a known runtime';
    throw new GantryError('ValidationError', `Runtime "${runtime}" ${why}; available: ${ids}.`, { component: 'admin-api' });
  }

  private async changed(record: Pick<FunctionRecord, 'functionId'> | undefined, retire: RetireScope | undefined): Promise<void> {
    this.deps.cache.invalidateAll();
    if (record !== undefined && retire !== undefined) this.deps.scheduler.retire(record.functionId, retire);
    await this.deps.publishChange().catch((e: unknown) => {
      // Other nodes still converge: they resync on reconnect; this node is already up to date.
      this.deps.logger.warn({ err: e as Error }, 'config change not published');
    });
  }
}

function handlerWarnings(manifest: ZipManifest, runtime: string, handler: string): readonly string[] {
  const problem = missingHandlerModule(runtime, handler, manifest.entries);
  return problem === undefined ? [] : [`${problem} The function is created; invoking it fails until the code provides the handler.`];
}

/** Lambda gives CodeSha256 in base64, Gantry in hex: either names the same digest. */
function hexSha256(given: string): string {
  if (/^[0-9a-fA-F]{64}$/.test(given)) return given.toLowerCase();
  if (/^[A-Za-z0-9+/]{43}=$/.test(given)) return Buffer.from(given, 'base64').toString('hex');
  throw new GantryError('ValidationError', 'codeSha256 must be a SHA-256 in hex (64 characters) or base64 (44 characters).', { component: 'admin-api' });
}

function nameTaken(name: string): GantryError {
  return new GantryError('ResourceConflict', `Function "${name}" already exists.`, { component: 'admin-api' });
}
