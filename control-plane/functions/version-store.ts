/**
 * Postgres persistence of published versions and aliases. A published version is a copy of
 * $LATEST's function_versions row, so it is as immutable as any version row and its warm
 * environments have their own key. Numbers come from functions.last_version, under the
 * function's row lock: never reused, not even after a delete. Every mutation bumps the config
 * revision, so every node's function cache reloads.
 */
import type { Pool, PoolClient } from '../../common/db.js';
import { GantryError } from '../../common/errors.js';
import { bumpConfigRevision, inTransaction, query } from '../postgres/transaction.js';
import { lockFunction, revisionMismatch, toFunctionVersion, type Precondition, type VersionColumns } from './function-store.js';
import {
  LATEST,
  type AliasRecord,
  type AliasRoute,
  type FunctionRecord,
  type InvocableFunction,
  type PublishedVersion,
  type TenantId,
} from './function-types.js';

export interface PublishInput extends Precondition {
  readonly description?: string;
  /** The code the caller expects $LATEST to have (hex sha256), else nothing is published. */
  readonly codeSha256?: string;
}

export interface AliasInput {
  readonly name: string;
  readonly functionVersion: string;
  readonly description?: string;
  /** At most one entry: the version number and its weight (0.0-1.0). */
  readonly additionalVersionWeights?: Readonly<Record<string, number>>;
}

export interface AliasPatch extends Precondition {
  readonly functionVersion?: string;
  readonly description?: string;
  /** null clears the routing config. */
  readonly additionalVersionWeights?: Readonly<Record<string, number>> | null;
}

interface VersionRow extends VersionColumns {
  version: number;
  source_version_id: string;
  description: string;
  revision_id: string;
  created_at: Date;
}

const SELECT_VERSION = `
  SELECT p.version, p.version_id, p.source_version_id, p.description, p.revision_id, p.created_at,
         f.id AS function_id, f.tenant_id, f.name, v.runtime, v.handler, v.memory_mb, v.timeout_ms,
         v.environment, v.network, v.code_sha256, v.code_size
    FROM published_versions p
    JOIN functions f ON f.id = p.function_id
    JOIN function_versions v ON v.id = p.version_id`;

interface AliasRow {
  name: string;
  function_name: string;
  function_version: number | null;
  additional_version: number | null;
  additional_weight: number | null;
  description: string;
  revision_id: string;
  created_at: Date;
  updated_at: Date;
}

const SELECT_ALIAS = `
  SELECT a.name, f.name AS function_name, a.function_version, a.additional_version, a.additional_weight,
         a.description, a.revision_id, a.created_at, a.updated_at
    FROM function_aliases a JOIN functions f ON f.id = a.function_id`;

export class VersionStore {
  constructor(private readonly pool: Pool) {}

  /**
   * Snapshots $LATEST as the next version; when $LATEST has not changed since the newest
   * published version, returns that one instead (`created: false`), as Lambda does.
   */
  async publish(tenantId: TenantId, name: string, input: PublishInput): Promise<{ version: PublishedVersion; created: boolean }> {
    return inTransaction(this.pool, async (c) => {
      const current = await lockFunction(c, tenantId, name, input);
      if (input.codeSha256 !== undefined && input.codeSha256 !== current.codeSha256) {
        throw new GantryError('PreconditionFailed', `CodeSha256 ${input.codeSha256} does not match the code of $LATEST (${current.codeSha256}).`, {
          component: 'store',
        });
      }
      const last = await c.query<VersionRow>(`${SELECT_VERSION} WHERE p.function_id = $1 ORDER BY p.version DESC LIMIT 1`, [current.functionId]);
      const newest = last.rows[0];
      if (newest !== undefined && Number(newest.source_version_id) === current.versionId) return { version: toVersion(newest), created: false };
      const copy = await c.query<{ id: string }>(
        `INSERT INTO function_versions (tenant_id, function_id, runtime, handler, memory_mb, timeout_ms, environment, network, code_sha256, code_size)
         SELECT tenant_id, function_id, runtime, handler, memory_mb, timeout_ms, environment, network, code_sha256, code_size
           FROM function_versions WHERE id = $1 RETURNING id`,
        [current.versionId],
      );
      const n = await c.query<{ last_version: number }>('UPDATE functions SET last_version = last_version + 1 WHERE id = $1 RETURNING last_version', [
        current.functionId,
      ]);
      const number = n.rows[0]?.last_version as number;
      await c.query(
        `INSERT INTO published_versions (function_id, version, version_id, source_version_id, description, revision_id)
         VALUES ($1, $2, $3, $4, $5, gen_random_uuid())`,
        [current.functionId, number, copy.rows[0]?.id, current.versionId, input.description ?? current.description ?? ''],
      );
      await bumpConfigRevision(c);
      return { version: await requireVersionIn(c, current, number), created: true };
    });
  }

  async listVersions(tenantId: TenantId, name: string): Promise<PublishedVersion[]> {
    const rows = await query<VersionRow>(this.pool, `${SELECT_VERSION} WHERE f.tenant_id = $1 AND f.name = $2 ORDER BY p.version`, [tenantId, name]);
    return rows.map(toVersion);
  }

  async getVersion(tenantId: TenantId, name: string, version: number): Promise<PublishedVersion | undefined> {
    const rows = await query<VersionRow>(this.pool, `${SELECT_VERSION} WHERE f.tenant_id = $1 AND f.name = $2 AND p.version = $3`, [tenantId, name, version]);
    return rows[0] === undefined ? undefined : toVersion(rows[0]);
  }

  /** Refused (409) while an alias routes to it. Its code archive is left to the code GC. */
  async deleteVersion(tenantId: TenantId, name: string, version: number): Promise<PublishedVersion> {
    return inTransaction(this.pool, async (c) => {
      const current = await lockFunction(c, tenantId, name);
      const gone = await requireVersionIn(c, current, version);
      const users = await c.query<{ name: string }>(
        'SELECT name FROM function_aliases WHERE function_id = $1 AND (function_version = $2 OR additional_version = $2) ORDER BY name',
        [current.functionId, version],
      );
      if (users.rows.length > 0) {
        const names = users.rows.map((r) => `"${r.name}"`).join(', ');
        throw new GantryError('ResourceConflict', `Version ${version} of ${name} is in use by alias ${names}; move or delete the alias first.`, {
          component: 'store',
        });
      }
      await c.query('DELETE FROM published_versions WHERE function_id = $1 AND version = $2', [current.functionId, version]);
      await c.query('DELETE FROM function_versions WHERE id = $1', [gone.versionId]);
      await bumpConfigRevision(c);
      return gone;
    });
  }

  async createAlias(tenantId: TenantId, functionName: string, input: AliasInput): Promise<AliasRecord> {
    return inTransaction(this.pool, async (c) => {
      const current = await lockFunction(c, tenantId, functionName);
      const exists = await c.query('SELECT 1 FROM function_aliases WHERE function_id = $1 AND name = $2', [current.functionId, input.name]);
      if (exists.rows.length > 0) {
        throw new GantryError('ResourceConflict', `Alias "${input.name}" of ${functionName} already exists.`, { component: 'store' });
      }
      const routing = await checkRouting(c, current, input.functionVersion, input.additionalVersionWeights ?? {});
      await c.query(
        `INSERT INTO function_aliases (function_id, name, function_version, additional_version, additional_weight, description, revision_id)
         VALUES ($1, $2, $3, $4, $5, $6, gen_random_uuid())`,
        [current.functionId, input.name, routing.primary, routing.extra, routing.weight, input.description ?? ''],
      );
      await bumpConfigRevision(c);
      return requireAliasIn(c, current, input.name);
    });
  }

  async updateAlias(tenantId: TenantId, functionName: string, alias: string, patch: AliasPatch): Promise<AliasRecord> {
    return inTransaction(this.pool, async (c) => {
      const current = await lockFunction(c, tenantId, functionName);
      const before = await requireAliasIn(c, current, alias);
      if (patch.expectedRevisionId !== undefined && patch.expectedRevisionId !== before.revisionId) throw revisionMismatch(`alias ${alias}`);
      const weights = patch.additionalVersionWeights === undefined ? before.additionalVersionWeights : patch.additionalVersionWeights ?? {};
      const routing = await checkRouting(c, current, patch.functionVersion ?? before.functionVersion, weights);
      await c.query(
        `UPDATE function_aliases SET function_version = $3, additional_version = $4, additional_weight = $5, description = $6,
                revision_id = gen_random_uuid(), updated_at = now()
          WHERE function_id = $1 AND name = $2`,
        [current.functionId, alias, routing.primary, routing.extra, routing.weight, patch.description ?? before.description],
      );
      await bumpConfigRevision(c);
      return requireAliasIn(c, current, alias);
    });
  }

  async getAlias(tenantId: TenantId, functionName: string, alias: string): Promise<AliasRecord | undefined> {
    const rows = await query<AliasRow>(this.pool, `${SELECT_ALIAS} WHERE f.tenant_id = $1 AND f.name = $2 AND a.name = $3`, [tenantId, functionName, alias]);
    return rows[0] === undefined ? undefined : toAlias(rows[0]);
  }

  async listAliases(tenantId: TenantId, functionName: string): Promise<AliasRecord[]> {
    const rows = await query<AliasRow>(this.pool, `${SELECT_ALIAS} WHERE f.tenant_id = $1 AND f.name = $2 ORDER BY a.name`, [tenantId, functionName]);
    return rows.map(toAlias);
  }

  async deleteAlias(tenantId: TenantId, functionName: string, alias: string): Promise<void> {
    await inTransaction(this.pool, async (c) => {
      const current = await lockFunction(c, tenantId, functionName);
      const r = await c.query('DELETE FROM function_aliases WHERE function_id = $1 AND name = $2', [current.functionId, alias]);
      if (r.rowCount === 0) throw aliasNotFound(functionName, alias);
      await bumpConfigRevision(c);
    });
  }

  /**
   * $LATEST with every published version and alias, as the function cache keeps it: three
   * queries on a cache miss, none per call.
   */
  async getInvocable(tenantId: TenantId, name: string, latest: FunctionRecord | undefined): Promise<InvocableFunction | undefined> {
    if (latest === undefined) return undefined;
    const [versions, aliases] = await Promise.all([
      query<VersionRow>(this.pool, `${SELECT_VERSION} WHERE p.function_id = $1 ORDER BY p.version`, [latest.functionId]),
      query<AliasRow>(this.pool, `${SELECT_ALIAS} WHERE a.function_id = $1`, [latest.functionId]),
    ]);
    const published = new Map<number, FunctionRecord>();
    for (const row of versions) {
      const v = toVersion(row);
      // Runs with the function's concurrency settings (Lambda's are per function), its own code and configuration.
      published.set(v.version, { ...latest, ...v, executedVersion: String(v.version), description: v.description, revisionId: v.revisionId, provisionedConcurrency: null });
    }
    const routes = new Map<string, AliasRoute>();
    for (const row of aliases) {
      routes.set(row.name, {
        name: row.name,
        functionVersion: row.function_version === null ? LATEST : String(row.function_version),
        additionalVersion: row.additional_version === null ? null : String(row.additional_version),
        additionalWeight: row.additional_weight ?? 0,
      });
    }
    return { ...latest, executedVersion: LATEST, published, aliases: routes };
  }
}

/** A version number and weight an alias may route to: published versions of this function only. */
async function checkRouting(
  c: PoolClient,
  f: FunctionRecord,
  functionVersion: string,
  weights: Readonly<Record<string, number>>,
): Promise<{ primary: number | null; extra: number | null; weight: number | null }> {
  const primary = functionVersion === LATEST ? null : Number(functionVersion);
  const entries = Object.entries(weights);
  if (entries.length > 1) throw invalid('routingConfig.additionalVersionWeights may name at most one version.');
  const [extraText, weight] = entries[0] ?? [undefined, undefined];
  const extra = extraText === undefined ? null : Number(extraText);
  if (extra !== null && primary === null) throw invalid('An alias of $LATEST cannot have routingConfig; point it at a published version.');
  if (extra !== null && extra === primary) throw invalid(`The additional version ${extra} must differ from the alias's functionVersion.`);
  for (const n of [primary, extra]) {
    if (n === null) continue;
    const r = await c.query('SELECT 1 FROM published_versions WHERE function_id = $1 AND version = $2', [f.functionId, n]);
    if (r.rows.length === 0) throw versionNotFound(f.name, n);
  }
  return { primary, extra, weight: weight ?? null };
}

async function requireVersionIn(c: PoolClient, f: FunctionRecord, version: number): Promise<PublishedVersion> {
  const r = await c.query<VersionRow>(`${SELECT_VERSION} WHERE p.function_id = $1 AND p.version = $2`, [f.functionId, version]);
  if (r.rows[0] === undefined) throw versionNotFound(f.name, version);
  return toVersion(r.rows[0]);
}

async function requireAliasIn(c: PoolClient, f: FunctionRecord, alias: string): Promise<AliasRecord> {
  const r = await c.query<AliasRow>(`${SELECT_ALIAS} WHERE a.function_id = $1 AND a.name = $2`, [f.functionId, alias]);
  if (r.rows[0] === undefined) throw aliasNotFound(f.name, alias);
  return toAlias(r.rows[0]);
}

function toVersion(r: VersionRow): PublishedVersion {
  return {
    ...toFunctionVersion(r),
    version: r.version,
    executedVersion: String(r.version),
    description: r.description,
    revisionId: r.revision_id,
    createdAt: r.created_at,
  };
}

function toAlias(r: AliasRow): AliasRecord {
  return {
    functionName: r.function_name,
    name: r.name,
    functionVersion: r.function_version === null ? LATEST : String(r.function_version),
    additionalVersionWeights: r.additional_version === null ? {} : { [String(r.additional_version)]: r.additional_weight ?? 0 },
    description: r.description,
    revisionId: r.revision_id,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export function versionNotFound(name: string, version: number | string): GantryError {
  return new GantryError('ResourceNotFound', `Function not found: ${name}:${version}`, { component: 'store' });
}

export function aliasNotFound(name: string, alias: string): GantryError {
  return new GantryError('ResourceNotFound', `Alias not found: ${name}:${alias}`, { component: 'store' });
}

function invalid(message: string): GantryError {
  return new GantryError('ValidationError', message, { component: 'store' });
}
