/**
 * Postgres persistence of what only the Lambda API knows about a function (migration 009): its
 * role, tags and resource-policy statements. A function created over Gantry's own
 * API has no row: it reads as empty. Statements are changed under a row lock, so two concurrent
 * AddPermission calls cannot lose one another.
 */
import type { Pool } from '../../common/db.js';
import type { FunctionId, TenantId } from '../functions/function-types.js';
import { inTransaction, query } from '../postgres/transaction.js';

export interface PolicyStatement {
  readonly Sid: string;
  readonly [key: string]: unknown;
}

export interface LambdaAttributes {
  readonly role: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly statements: readonly PolicyStatement[];
  readonly updatedAt: Date | undefined;
}

export const EMPTY_ATTRIBUTES: LambdaAttributes = Object.freeze({ role: '', tags: Object.freeze({}), statements: Object.freeze([]), updatedAt: undefined });

interface Row {
  role: string;
  tags: Record<string, string>;
  statements: PolicyStatement[];
  updated_at: Date;
}

export class LambdaAttributesStore {
  constructor(private readonly pool: Pool) {}

  async get(functionId: FunctionId): Promise<LambdaAttributes> {
    const rows = await query<Row>(this.pool, 'SELECT role, tags, statements, updated_at FROM lambda_function_attributes WHERE function_id = $1', [functionId]);
    return rows[0] === undefined ? EMPTY_ATTRIBUTES : toAttributes(rows[0]);
  }

  /** Several functions at once (ListFunctions). */
  async getMany(functionIds: readonly FunctionId[]): Promise<Map<FunctionId, LambdaAttributes>> {
    if (functionIds.length === 0) return new Map();
    const rows = await query<Row & { function_id: FunctionId }>(
      this.pool,
      'SELECT function_id, role, tags, statements, updated_at FROM lambda_function_attributes WHERE function_id = ANY($1::uuid[])',
      [[...functionIds]],
    );
    return new Map(rows.map((r) => [r.function_id, toAttributes(r)]));
  }

  /** Reads, changes and writes back one function's attributes in one transaction. */
  async update(tenantId: TenantId, functionId: FunctionId, change: (current: LambdaAttributes) => LambdaAttributes): Promise<LambdaAttributes> {
    return inTransaction(this.pool, async (c) => {
      await c.query('INSERT INTO lambda_function_attributes (function_id, tenant_id) VALUES ($1, $2) ON CONFLICT (function_id) DO NOTHING', [functionId, tenantId]);
      const r = await c.query<Row>('SELECT role, tags, statements, updated_at FROM lambda_function_attributes WHERE function_id = $1 FOR UPDATE', [functionId]);
      const next = change(r.rows[0] === undefined ? EMPTY_ATTRIBUTES : toAttributes(r.rows[0]));
      const w = await c.query<Row>(
        `UPDATE lambda_function_attributes SET role = $2, tags = $3, statements = $4, updated_at = now()
          WHERE function_id = $1 RETURNING role, tags, statements, updated_at`,
        [functionId, next.role, JSON.stringify(next.tags), JSON.stringify(next.statements)],
      );
      return toAttributes(w.rows[0] as Row);
    });
  }
}

function toAttributes(r: Row): LambdaAttributes {
  return { role: r.role, tags: r.tags, statements: r.statements, updatedAt: r.updated_at };
}
