/**
 * Postgres side of async invocations: per-function configs (cached in memory until a config
 * change anywhere clears them), the outcome of every async invocation, the dead-letter list, and
 * the read of the ledger that answers for synchronous invocations. Writes are idempotent, so a
 * job redelivered after a crash records the same outcome or dead letter once.
 */
import type { Pool, PoolClient } from '../../common/db.js';
import type { TenantId } from '../functions/function-types.js';
import { inTransaction, query, translatePgError } from '../postgres/transaction.js';
import { DEFAULT_ASYNC_CONFIG, type AsyncConfig } from './async-config.js';

export type FinalStatus = 'succeeded' | 'failed' | 'dead-lettered';

export interface AsyncOutcome {
  readonly id: string;
  readonly tenantId: string;
  readonly functionName: string;
  readonly source: string;
  readonly status: FinalStatus;
  readonly attempts: number;
  readonly result: Buffer | null;
  readonly error: unknown;
  readonly createdAt: Date;
  readonly startedAt: Date | null;
  readonly updatedAt: Date;
}

export interface DeadLetter {
  readonly id: string;
  readonly functionName: string;
  readonly event: string;
  readonly error: unknown;
  readonly attempts: number;
  readonly failedAt: Date;
}

export interface LedgerSummary {
  readonly functionName: string;
  readonly status: 'succeeded' | 'failed';
  readonly attempts: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly errorType: string | null;
}

interface PendingOutcome {
  readonly outcome: Omit<AsyncOutcome, 'updatedAt'>;
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
}

const OUTCOME_COLUMNS = 10;
/** Rows per INSERT: Postgres allows 65535 parameters per statement. */
const MAX_OUTCOME_BATCH = 500;

export class AsyncStore {
  private configs = new Map<string, Promise<AsyncConfig>>();
  private pending: PendingOutcome[] = [];
  private flushing: Promise<void> | undefined;

  constructor(private readonly pool: Pool) {}

  /** The function's config, or the defaults; cached until `invalidate`. */
  config(functionId: string): Promise<AsyncConfig> {
    const hit = this.configs.get(functionId);
    if (hit) return hit;
    const loading = query<{ config: AsyncConfig }>(this.pool, 'SELECT config FROM async_configs WHERE function_id = $1', [functionId]).then(
      (rows) => rows[0]?.config ?? DEFAULT_ASYNC_CONFIG,
    );
    this.configs.set(functionId, loading);
    loading.catch(() => this.configs.delete(functionId));
    return loading;
  }

  async putConfig(tenantId: TenantId, functionId: string, c: AsyncConfig): Promise<void> {
    await query(
      this.pool,
      `INSERT INTO async_configs (function_id, tenant_id, config) VALUES ($1, $2, $3)
       ON CONFLICT (function_id) DO UPDATE SET config = EXCLUDED.config, updated_at = now()`,
      [functionId, tenantId, JSON.stringify(c)],
    );
    this.configs.delete(functionId);
  }

  /** Called on every config change notification (another node may have changed a config). */
  invalidate(): void {
    this.configs = new Map();
  }

  /**
   * Records an outcome once; a second write for the same id (a redelivered job) is ignored.
   * Outcomes that arrive while a write is in flight share the next INSERT (group commit), so a
   * draining queue costs one round trip per batch, not per event.
   */
  recordOutcome(o: Omit<AsyncOutcome, 'updatedAt'>): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ outcome: o, resolve, reject });
      this.flushing ??= this.drain();
    });
  }

  private async drain(): Promise<void> {
    await Promise.resolve();
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, MAX_OUTCOME_BATCH);
      try {
        await insertOutcomes(this.pool, batch.map((p) => p.outcome));
        for (const p of batch) p.resolve();
      } catch (e) {
        for (const p of batch) p.reject(e);
      }
    }
    this.flushing = undefined;
  }

  /** Dead letter and outcome in one transaction: the event is listed exactly when it is dead-lettered. */
  async deadLetter(o: Omit<AsyncOutcome, 'updatedAt' | 'status'>, event: string): Promise<void> {
    await inTransaction(this.pool, async (client) => {
      await client.query(
        `INSERT INTO dead_letters (id, tenant_id, function_name, event, error, attempts) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING`,
        [o.id, o.tenantId, o.functionName, Buffer.from(event), JSON.stringify(o.error ?? null), o.attempts],
      );
      await insertOutcomes(client, [{ ...o, status: 'dead-lettered' }]);
    });
  }

  async outcome(id: string): Promise<AsyncOutcome | undefined> {
    const rows = await query<{
      id: string; tenant_id: string; function_name: string; source: string; status: FinalStatus; attempts: number;
      result: Buffer | null; error: unknown; created_at: Date; started_at: Date | null; updated_at: Date;
    }>(this.pool, 'SELECT * FROM async_invocations WHERE id = $1', [id]);
    const r = rows[0];
    if (r === undefined) return undefined;
    return {
      id: r.id, tenantId: r.tenant_id, functionName: r.function_name, source: r.source, status: r.status, attempts: r.attempts,
      result: r.result, error: r.error, createdAt: r.created_at, startedAt: r.started_at, updatedAt: r.updated_at,
    };
  }

  /** A synchronous invocation as the ledger has it (one row per attempt; sync ones have one). */
  async fromLedger(id: string): Promise<LedgerSummary | undefined> {
    const rows = await query<{ function_name: string; status: 'succeeded' | 'failed'; error_type: string | null; attempts: string; created_at: Date; updated_at: Date }>(
      this.pool,
      `SELECT function_name, status, error_type, count(*) OVER () AS attempts,
              min(started_at) OVER () AS created_at, max(recorded_at) OVER () AS updated_at
         FROM invocations WHERE id = $1 ORDER BY attempt DESC LIMIT 1`,
      [id],
    );
    const r = rows[0];
    if (r === undefined) return undefined;
    return { functionName: r.function_name, status: r.status, attempts: Number(r.attempts), createdAt: r.created_at, updatedAt: r.updated_at, errorType: r.error_type };
  }

  async deadLetters(tenantId: TenantId, functionName: string, limit: number): Promise<DeadLetter[]> {
    const rows = await query<{ id: string; function_name: string; event: Buffer; error: unknown; attempts: number; failed_at: Date }>(
      this.pool,
      'SELECT * FROM dead_letters WHERE tenant_id = $1 AND function_name = $2 ORDER BY failed_at, id LIMIT $3',
      [tenantId, functionName, limit],
    );
    return rows.map((r) => ({ id: r.id, functionName: r.function_name, event: r.event.toString('utf8'), error: r.error, attempts: r.attempts, failedAt: r.failed_at }));
  }

  /**
   * Removes a dead letter once `requeue` (given its event) has durably queued the replay; the row
   * stays locked meanwhile, so two replays of one dead letter make one new invocation.
   */
  async replay<T>(tenantId: TenantId, functionName: string, id: string, requeue: (event: string) => Promise<T>): Promise<T | undefined> {
    return inTransaction(this.pool, async (client) => {
      const rows = (
        await client.query<{ event: Buffer }>('SELECT event FROM dead_letters WHERE tenant_id = $1 AND function_name = $2 AND id = $3 FOR UPDATE', [tenantId, functionName, id])
      ).rows;
      const row = rows[0];
      if (row === undefined) return undefined;
      const queued = await requeue(row.event.toString('utf8'));
      await client.query('DELETE FROM dead_letters WHERE id = $1', [id]);
      return queued;
    });
  }
}

async function insertOutcomes(db: Pool | PoolClient, outcomes: readonly Omit<AsyncOutcome, 'updatedAt'>[]): Promise<void> {
  const params: unknown[] = [];
  const rows = outcomes.map((o, i) => {
    params.push(o.id, o.tenantId, o.functionName, o.source, o.status, o.attempts, o.result, o.error === undefined ? null : JSON.stringify(o.error), o.createdAt, o.startedAt);
    return `(${Array.from({ length: OUTCOME_COLUMNS }, (_, k) => `$${i * OUTCOME_COLUMNS + k + 1}`).join(',')})`;
  });
  try {
    await db.query(
      `INSERT INTO async_invocations (id, tenant_id, function_name, source, status, attempts, result, error, created_at, started_at)
       VALUES ${rows.join(',')} ON CONFLICT (id) DO NOTHING`,
      params,
    );
  } catch (e) {
    throw translatePgError(e);
  }
}
