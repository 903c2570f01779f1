/** Postgres persistence of schedules (the source of truth BullMQ's job schedulers mirror). */
import { randomUUID } from 'node:crypto';
import type { Pool } from '../../common/db.js';
import type { TenantId } from '../functions/function-types.js';
import { query } from '../postgres/transaction.js';

export interface Schedule {
  readonly id: string;
  readonly tenantId: string;
  readonly functionId: string;
  readonly functionName: string;
  readonly expression: string;
  readonly timezone: string;
  /** The fixed event, or null for EventBridge's scheduled event. */
  readonly input: unknown;
  /** The version or alias it fires; null is $LATEST. */
  readonly qualifier: string | null;
  readonly createdAt: Date;
}

interface Row {
  id: string;
  tenant_id: string;
  function_id: string;
  function_name: string;
  expression: string;
  timezone: string;
  input: unknown;
  qualifier: string | null;
  created_at: Date;
}

const toSchedule = (r: Row): Schedule => ({
  id: r.id,
  tenantId: r.tenant_id,
  functionId: r.function_id,
  functionName: r.function_name,
  expression: r.expression,
  timezone: r.timezone,
  input: r.input,
  qualifier: r.qualifier,
  createdAt: r.created_at,
});

export class ScheduleStore {
  constructor(private readonly pool: Pool) {}

  async create(s: Omit<Schedule, 'id' | 'createdAt'>): Promise<Schedule> {
    const rows = await query<Row>(
      this.pool,
      `INSERT INTO schedules (id, tenant_id, function_id, function_name, expression, timezone, input, qualifier)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *`,
      [randomUUID(), s.tenantId, s.functionId, s.functionName, s.expression, s.timezone, s.input === null ? null : JSON.stringify(s.input), s.qualifier],
    );
    return toSchedule(rows[0] as Row);
  }

  async list(tenantId: TenantId, functionName: string): Promise<Schedule[]> {
    const rows = await query<Row>(this.pool, 'SELECT * FROM schedules WHERE tenant_id = $1 AND function_name = $2 ORDER BY created_at, id', [tenantId, functionName]);
    return rows.map(toSchedule);
  }

  async all(): Promise<Schedule[]> {
    return (await query<Row>(this.pool, 'SELECT * FROM schedules ORDER BY created_at, id')).map(toSchedule);
  }

  async get(id: string): Promise<Schedule | undefined> {
    const rows = await query<Row>(this.pool, 'SELECT * FROM schedules WHERE id = $1', [id]);
    return rows[0] === undefined ? undefined : toSchedule(rows[0]);
  }

  /** True when it existed. */
  async delete(tenantId: TenantId, functionName: string, id: string): Promise<boolean> {
    const rows = await query<{ id: string }>(this.pool, 'DELETE FROM schedules WHERE tenant_id = $1 AND function_name = $2 AND id = $3 RETURNING id', [tenantId, functionName, id]);
    return rows.length > 0;
  }
}
