/**
 * Postgres persistence of functions, their immutable versions and code archives. Each mutation
 * is one transaction that also bumps the config revision, so every node and gateway can tell
 * its cached view is stale.
 */
import { randomUUID } from 'node:crypto';
import type { Pool, PoolClient } from '../../common/db.js';
import { GantryError } from '../../common/errors.js';
import type {
  FunctionConfigPatch,
  FunctionId,
  FunctionRecord,
  FunctionSettings,
  FunctionVersion,
  NetworkMode,
  TenantId,
  VersionId,
} from './function-types.js';
import { bumpConfigRevision, inTransaction, query } from '../postgres/transaction.js';

export interface CodeArchive {
  readonly sha256: string;
  readonly zip: Buffer;
  readonly unzippedBytes: number;
}

export interface NewFunction extends FunctionSettings {
  readonly tenantId: TenantId;
  readonly name: string;
  readonly description?: string;
  readonly code: CodeArchive;
}

/** Lambda's RevisionId precondition: the change applies only while the function is at this revision. */
export interface Precondition {
  readonly expectedRevisionId?: string;
}

/** The columns of one immutable version, as $LATEST's and published versions' queries select them. */
export interface VersionColumns {
  function_id: string;
  tenant_id: string;
  name: string;
  version_id: string;
  runtime: string;
  handler: string;
  memory_mb: number;
  timeout_ms: number;
  environment: Record<string, string>;
  network: NetworkMode;
  code_sha256: string;
  code_size: number;
}

interface FunctionRow extends VersionColumns {
  created_at: Date;
  updated_at: Date;
  reserved_concurrency: number | null;
  provisioned_concurrency: number | null;
  description: string;
  revision_id: string;
}

const SELECT_FUNCTION = `
  SELECT f.id AS function_id, f.tenant_id, f.name, v.id AS version_id, v.runtime, v.handler,
         v.memory_mb, v.timeout_ms, v.environment, v.network, v.code_sha256, v.code_size,
         f.created_at, f.updated_at, f.reserved_concurrency, f.provisioned_concurrency,
         f.description, f.revision_id
    FROM functions f JOIN function_versions v ON v.id = f.current_version_id`;

export class FunctionStore {
  constructor(private readonly pool: Pool) {}

  async get(tenantId: TenantId, name: string): Promise<FunctionRecord | undefined> {
    const rows = await query<FunctionRow>(this.pool, `${SELECT_FUNCTION} WHERE f.tenant_id = $1 AND f.name = $2`, [
      tenantId,
      name,
    ]);
    return rows[0] === undefined ? undefined : toRecord(rows[0]);
  }

  async require(tenantId: TenantId, name: string): Promise<FunctionRecord> {
    const f = await this.get(tenantId, name);
    if (f === undefined) throw notFound(name);
    return f;
  }

  async list(tenantId: TenantId): Promise<FunctionRecord[]> {
    const rows = await query<FunctionRow>(this.pool, `${SELECT_FUNCTION} WHERE f.tenant_id = $1 ORDER BY f.name`, [
      tenantId,
    ]);
    return rows.map(toRecord);
  }

  /** Functions with provisioned concurrency, for the scheduler's reconciler. */
  async listProvisioned(): Promise<FunctionRecord[]> {
    const rows = await query<FunctionRow>(this.pool, `${SELECT_FUNCTION} WHERE f.provisioned_concurrency > 0`);
    return rows.map(toRecord);
  }

  async create(input: NewFunction): Promise<FunctionRecord> {
    return inTransaction(this.pool, async (c) => {
      const functionId = randomUUID();
      await putArchive(c, input.code);
      const versionId = await insertVersion(c, functionId, input, input.code.sha256, input.code.zip.length);
      await c.query(
        `INSERT INTO functions (id, tenant_id, name, current_version_id, description) VALUES ($1, $2, $3, $4, $5)`,
        [functionId, input.tenantId, input.name, versionId, input.description ?? ''],
      );
      await bumpConfigRevision(c);
      return readInTx(c, input.tenantId, input.name);
    });
  }

  /** A new version with the given code (PUT …/code). */
  async replaceCode(tenantId: TenantId, name: string, code: CodeArchive, pre: Precondition = {}): Promise<FunctionRecord> {
    return this.newVersion(tenantId, name, pre, async (c, current) => {
      await putArchive(c, code);
      return insertVersion(c, current.functionId, current, code.sha256, code.zip.length);
    });
  }

  /** Concurrency settings, plus a new version when any versioned field changes (PATCH). */
  async patch(tenantId: TenantId, name: string, patch: FunctionConfigPatch, pre: Precondition = {}): Promise<FunctionRecord> {
    const versioned = stripConcurrency(patch);
    return inTransaction(this.pool, async (c) => {
      const current = await lockFunction(c, tenantId, name, pre);
      let versionId = current.versionId;
      if (Object.values(versioned).some((v) => v !== undefined)) {
        versionId = await insertVersion(c, current.functionId, { ...current, ...definedOnly(versioned) }, current.codeSha256, current.codeSize);
      }
      await c.query(
        `UPDATE functions SET current_version_id = $2, reserved_concurrency = $3, provisioned_concurrency = $4,
                description = $5, revision_id = gen_random_uuid(), updated_at = now() WHERE id = $1`,
        [
          current.functionId,
          versionId,
          patch.reservedConcurrency === undefined ? current.reservedConcurrency : patch.reservedConcurrency,
          patch.provisionedConcurrency === undefined ? current.provisionedConcurrency : patch.provisionedConcurrency,
          patch.description ?? current.description ?? '',
        ],
      );
      await bumpConfigRevision(c);
      return readInTx(c, tenantId, name);
    });
  }

  /** Deletes the function and its versions; returns what was deleted so callers can retire it. */
  async delete(tenantId: TenantId, name: string): Promise<FunctionRecord> {
    return inTransaction(this.pool, async (c) => {
      const current = await readInTx(c, tenantId, name, true);
      await c.query('DELETE FROM functions WHERE id = $1', [current.functionId]);
      await bumpConfigRevision(c);
      return current;
    });
  }

  /**
   * Deletes code archives no function version references (all of them, or only among `shas`);
   * returns the sha256 of each one deleted. A create committing a version of one meanwhile makes
   * the delete fail on the foreign key: nothing is deleted then, and the next pass tries again.
   */
  async deleteUnusedArchives(shas?: readonly string[]): Promise<string[]> {
    try {
      const rows = await query<{ sha256: string }>(
        this.pool,
        `DELETE FROM code_archives a
          WHERE ($1::text[] IS NULL OR a.sha256 = ANY($1::text[]))
            AND NOT EXISTS (SELECT 1 FROM function_versions v WHERE v.code_sha256 = a.sha256)
          RETURNING a.sha256`,
        [shas === undefined ? null : [...shas]],
      );
      return rows.map((r) => r.sha256);
    } catch (e) {
      if ((e as { code?: string }).code === '23503') return [];
      throw e;
    }
  }

  /** Which of `shas` are the code of some function's current version or of a published version. */
  async currentCode(shas: readonly string[]): Promise<Set<string>> {
    if (shas.length === 0) return new Set();
    const rows = await query<{ code_sha256: string }>(
      this.pool,
      `SELECT DISTINCT v.code_sha256 FROM function_versions v
        WHERE v.code_sha256 = ANY($1::text[])
          AND (v.id IN (SELECT current_version_id FROM functions) OR v.id IN (SELECT version_id FROM published_versions))`,
      [[...shas]],
    );
    return new Set(rows.map((r) => r.code_sha256));
  }

  /** Every archive a function's versions use (to collect once it is deleted). */
  async codeOf(functionId: string): Promise<string[]> {
    const rows = await query<{ code_sha256: string }>(this.pool, 'SELECT DISTINCT code_sha256 FROM function_versions WHERE function_id = $1', [functionId]);
    return rows.map((r) => r.code_sha256);
  }

  async getArchive(sha256: string): Promise<Buffer | undefined> {
    const rows = await query<{ zip: Buffer }>(this.pool, 'SELECT zip FROM code_archives WHERE sha256 = $1', [sha256]);
    return rows[0]?.zip;
  }

  private async newVersion(
    tenantId: TenantId,
    name: string,
    pre: Precondition,
    makeVersion: (c: PoolClient, current: FunctionRecord) => Promise<VersionId>,
  ): Promise<FunctionRecord> {
    return inTransaction(this.pool, async (c) => {
      const current = await lockFunction(c, tenantId, name, pre);
      const versionId = await makeVersion(c, current);
      await c.query(`UPDATE functions SET current_version_id = $2, revision_id = gen_random_uuid(), updated_at = now() WHERE id = $1`, [
        current.functionId,
        versionId,
      ]);
      await bumpConfigRevision(c);
      return readInTx(c, tenantId, name);
    });
  }
}

/** The function, locked for this transaction, after checking its RevisionId precondition. */
export async function lockFunction(c: PoolClient, tenantId: TenantId, name: string, pre: Precondition = {}): Promise<FunctionRecord> {
  const current = await readInTx(c, tenantId, name, true);
  if (pre.expectedRevisionId !== undefined && pre.expectedRevisionId !== current.revisionId) throw revisionMismatch(name);
  return current;
}

export function revisionMismatch(what: string): GantryError {
  return new GantryError('PreconditionFailed', `The revision ID provided does not match the latest revision ID of ${what}; get the latest and try again.`, {
    component: 'store',
  });
}

export async function readInTx(c: PoolClient, tenantId: TenantId, name: string, forUpdate = false): Promise<FunctionRecord> {
  // FOR UPDATE serialises concurrent updates of one function, so no version is lost between them.
  const sql = `${SELECT_FUNCTION} WHERE f.tenant_id = $1 AND f.name = $2${forUpdate ? ' FOR UPDATE OF f' : ''}`;
  const r = await c.query<FunctionRow>(sql, [tenantId, name]);
  if (r.rows[0] === undefined) throw notFound(name);
  return toRecord(r.rows[0]);
}

export async function putArchive(c: PoolClient, code: CodeArchive): Promise<void> {
  await c.query(
    `INSERT INTO code_archives (sha256, zip, size_bytes, unzipped_bytes) VALUES ($1, $2, $3, $4)
     ON CONFLICT (sha256) DO NOTHING`,
    [code.sha256, code.zip, code.zip.length, code.unzippedBytes],
  );
}

type VersionFields = FunctionSettings & { readonly tenantId: TenantId };

export async function insertVersion(
  c: PoolClient,
  functionId: string,
  v: VersionFields,
  codeSha256: string,
  codeSize: number,
): Promise<VersionId> {
  const r = await c.query<{ id: string }>(
    `INSERT INTO function_versions
       (tenant_id, function_id, runtime, handler, memory_mb, timeout_ms, environment, network, code_sha256, code_size)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
    [v.tenantId, functionId, v.runtime, v.handler, v.memoryMb, v.timeoutMs, JSON.stringify(v.environment), v.network, codeSha256, codeSize],
  );
  return Number(r.rows[0]?.id) as VersionId;
}

/** What a patch changes beyond the version row: concurrency and the description live on the function. */
function stripConcurrency(p: FunctionConfigPatch): Omit<FunctionConfigPatch, 'reservedConcurrency' | 'provisionedConcurrency' | 'description'> {
  const { reservedConcurrency: _r, provisionedConcurrency: _p, description: _d, ...rest } = p;
  return rest;
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export function toFunctionVersion(r: VersionColumns): FunctionVersion {
  return {
    tenantId: r.tenant_id as TenantId,
    functionId: r.function_id as FunctionId,
    versionId: Number(r.version_id) as VersionId,
    name: r.name,
    runtime: r.runtime,
    handler: r.handler,
    memoryMb: r.memory_mb,
    timeoutMs: r.timeout_ms,
    environment: r.environment,
    network: r.network,
    codeSha256: r.code_sha256,
    codeSize: r.code_size,
  };
}

function toRecord(r: FunctionRow): FunctionRecord {
  return {
    ...toFunctionVersion(r),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    reservedConcurrency: r.reserved_concurrency,
    provisionedConcurrency: r.provisioned_concurrency,
    description: r.description,
    revisionId: r.revision_id,
  };
}

export function notFound(name: string): GantryError {
  return new GantryError('ResourceNotFound', `Function not found: ${name}`, { component: 'store' });
}
