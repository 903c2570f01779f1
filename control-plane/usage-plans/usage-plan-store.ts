/**
 * Postgres persistence of usage plans and API keys (api.md, Usage plans and keys). Only a key's
 * sha256 is stored; its value exists in the create response and nowhere else. Every mutation
 * bumps the config revision in its transaction, so gateways reload their key table.
 */
import { randomBytes } from 'node:crypto';
import type { Pool } from '../../common/db.js';
import { GantryError } from '../../common/errors.js';
import { hashApiKey, type QuotaPeriod } from '../../common/usage-keys.js';
import type { TenantId } from '../functions/function-types.js';
import { bumpConfigRevision, inTransaction, query } from '../postgres/transaction.js';

export interface ThrottleSettings {
  readonly rateLimit: number;
  readonly burstLimit: number;
}

export interface QuotaSettings {
  readonly limit: number;
  readonly period: QuotaPeriod;
  /** Requests subtracted from the limit in the plan's initial period. */
  readonly offset?: number | undefined;
}

export interface UsagePlanRecord {
  readonly id: string;
  readonly name: string;
  readonly apis: string[];
  readonly throttle: ThrottleSettings | null;
  readonly quota: QuotaSettings | null;
  readonly createdAt: Date;
}

export interface ApiKeyRecord {
  readonly id: string;
  readonly name: string;
  readonly usagePlanId: string;
  readonly createdAt: Date;
}

interface PlanRow {
  id: string;
  name: string;
  apis: string[];
  throttle: ThrottleSettings | null;
  quota: QuotaSettings | null;
  created_at: Date;
}

interface KeyRow {
  id: string;
  name: string;
  usage_plan_id: string;
  created_at: Date;
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** API Gateway generates 40-character keys; 40 alphanumerics carry ~238 bits. */
const GENERATED_KEY_LENGTH = 40;

/** Alphanumerics only (compat.md §7); rejection sampling keeps every character equally likely. */
export function generateApiKeyValue(): string {
  let out = '';
  while (out.length < GENERATED_KEY_LENGTH) {
    for (const b of randomBytes(64)) {
      if (b < 248 && out.length < GENERATED_KEY_LENGTH) out += ALPHANUMERIC[b % 62];
    }
  }
  return out;
}

function newId(prefix: string): string {
  return prefix + randomBytes(6).toString('hex');
}

export class UsagePlanStore {
  constructor(private readonly pool: Pool) {}

  async createPlan(tenantId: TenantId, plan: Omit<UsagePlanRecord, 'id' | 'createdAt'>): Promise<UsagePlanRecord> {
    return inTransaction(this.pool, async (c) => {
      const r = await c.query<PlanRow>(
        `INSERT INTO usage_plans (id, tenant_id, name, apis, throttle, quota) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *`,
        [newId('up'), tenantId, plan.name, JSON.stringify(plan.apis), jsonOrNull(plan.throttle), jsonOrNull(plan.quota)],
      );
      await bumpConfigRevision(c);
      return toPlan(r.rows[0] as PlanRow);
    });
  }

  async listPlans(tenantId: TenantId): Promise<UsagePlanRecord[]> {
    return (await query<PlanRow>(this.pool, 'SELECT * FROM usage_plans WHERE tenant_id = $1 ORDER BY created_at, id', [tenantId])).map(toPlan);
  }

  async requirePlan(tenantId: TenantId, id: string): Promise<UsagePlanRecord> {
    const rows = await query<PlanRow>(this.pool, 'SELECT * FROM usage_plans WHERE tenant_id = $1 AND id = $2', [tenantId, id]);
    if (rows[0] === undefined) throw new GantryError('ResourceNotFound', `Usage plan not found: ${id}`, { component: 'store' });
    return toPlan(rows[0]);
  }

  /** Refused while keys still belong to the plan: deleting it would silently lock them out. */
  async deletePlan(tenantId: TenantId, id: string): Promise<void> {
    await inTransaction(this.pool, async (c) => {
      const keys = await c.query('SELECT 1 FROM api_keys WHERE usage_plan_id = $1 LIMIT 1', [id]);
      if ((keys.rowCount ?? 0) > 0) throw new GantryError('ResourceConflict', `Usage plan ${id} still has API keys; delete them first.`, { component: 'store' });
      const r = await c.query('DELETE FROM usage_plans WHERE tenant_id = $1 AND id = $2', [tenantId, id]);
      if (r.rowCount === 0) throw new GantryError('ResourceNotFound', `Usage plan not found: ${id}`, { component: 'store' });
      await bumpConfigRevision(c);
    });
  }

  /** Stores the key's hash; `value` is returned to the caller and never stored. */
  async createKey(tenantId: TenantId, key: { name: string; usagePlanId: string; value: string }): Promise<ApiKeyRecord> {
    return inTransaction(this.pool, async (c) => {
      const plan = await c.query('SELECT 1 FROM usage_plans WHERE tenant_id = $1 AND id = $2', [tenantId, key.usagePlanId]);
      if (plan.rowCount === 0) throw new GantryError('ValidationError', `Usage plan "${key.usagePlanId}" does not exist.`, { component: 'store' });
      const r = await c.query<KeyRow>(
        `INSERT INTO api_keys (id, tenant_id, name, usage_plan_id, key_sha256) VALUES ($1, $2, $3, $4, $5) RETURNING *`,
        [newId('ak'), tenantId, key.name, key.usagePlanId, hashApiKey(key.value)],
      );
      await bumpConfigRevision(c);
      return toKey(r.rows[0] as KeyRow);
    }).catch((e: unknown) => {
      if (e instanceof GantryError && e.type === 'ResourceConflict') {
        throw new GantryError('ResourceConflict', 'An API key with this value already exists.', { component: 'store' });
      }
      throw e;
    });
  }

  async listKeys(tenantId: TenantId): Promise<ApiKeyRecord[]> {
    return (await query<KeyRow>(this.pool, 'SELECT * FROM api_keys WHERE tenant_id = $1 ORDER BY created_at, id', [tenantId])).map(toKey);
  }

  async requireKey(tenantId: TenantId, id: string): Promise<ApiKeyRecord> {
    const rows = await query<KeyRow>(this.pool, 'SELECT * FROM api_keys WHERE tenant_id = $1 AND id = $2', [tenantId, id]);
    if (rows[0] === undefined) throw new GantryError('ResourceNotFound', `API key not found: ${id}`, { component: 'store' });
    return toKey(rows[0]);
  }

  async deleteKey(tenantId: TenantId, id: string): Promise<void> {
    await inTransaction(this.pool, async (c) => {
      const r = await c.query('DELETE FROM api_keys WHERE tenant_id = $1 AND id = $2', [tenantId, id]);
      if (r.rowCount === 0) throw new GantryError('ResourceNotFound', `API key not found: ${id}`, { component: 'store' });
      await bumpConfigRevision(c);
    });
  }
}

function jsonOrNull(v: unknown): string | null {
  return v === null || v === undefined ? null : JSON.stringify(v);
}

function toPlan(r: PlanRow): UsagePlanRecord {
  return { id: r.id, name: r.name, apis: r.apis, throttle: r.throttle, quota: r.quota, createdAt: r.created_at };
}

function toKey(r: KeyRow): ApiKeyRecord {
  return { id: r.id, name: r.name, usagePlanId: r.usage_plan_id, createdAt: r.created_at };
}
