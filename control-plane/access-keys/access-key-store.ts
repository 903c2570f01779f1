/**
 * Access keys in Postgres (`access_keys`, migration 008): the secret sealed by the secret box,
 * bound to the row's id, so a sealed value copied onto another key does not open.
 */
import { randomBytes } from 'node:crypto';
import type { Pool } from '../../common/db.js';
import { GantryError } from '../../common/errors.js';
import type { TenantId } from '../functions/function-types.js';
import { query } from '../postgres/transaction.js';
import type { SecretBox } from '../secrets/secret-box.js';

export interface AccessKeyRecord {
  readonly accessKeyId: string;
  readonly tenant: TenantId;
  readonly description: string;
  readonly createdAt: Date;
}

export interface AccessKeySecret extends AccessKeyRecord {
  readonly secretAccessKey: string;
}

interface Row {
  id: string;
  tenant_id: TenantId;
  secret_sealed: string;
  description: string;
  created_at: Date;
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const SECRET_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** `AKIA` and 16 upper-case base32 characters, as AWS's long-term key ids. */
export function newAccessKeyId(): string {
  return `AKIA${Array.from(randomBytes(16), (b) => BASE32[b & 31]).join('')}`;
}

/** 40 characters of AWS's secret alphabet (64 symbols: no bias from the modulo). */
export function newSecretAccessKey(): string {
  return Array.from(randomBytes(40), (b) => SECRET_CHARS[b & 63]).join('');
}

export class AccessKeyStore {
  constructor(
    private readonly pool: Pool,
    private readonly box: SecretBox,
  ) {}

  async create(tenant: TenantId, description: string): Promise<AccessKeySecret> {
    const id = newAccessKeyId();
    const secret = newSecretAccessKey();
    const rows = await query<Row>(
      this.pool,
      `INSERT INTO access_keys (id, tenant_id, secret_sealed, description)
       SELECT $1, t.id, $3, $4 FROM tenants t WHERE t.id = $2
       RETURNING *`,
      [id, tenant, this.box.seal(secret, id), description],
    );
    const row = rows[0];
    if (row === undefined) throw new GantryError('ValidationError', `Unknown tenant: ${tenant}.`, { component: 'admin-api' });
    return { ...toRecord(row), secretAccessKey: secret };
  }

  async list(): Promise<AccessKeyRecord[]> {
    return (await query<Row>(this.pool, 'SELECT id, tenant_id, description, created_at FROM access_keys ORDER BY created_at, id')).map(toRecord);
  }

  async delete(accessKeyId: string): Promise<void> {
    const r = await query<{ id: string }>(this.pool, 'DELETE FROM access_keys WHERE id = $1 RETURNING id', [accessKeyId]);
    if (r.length === 0) throw new GantryError('ResourceNotFound', `Access key not found: ${accessKeyId}`, { component: 'store' });
  }

  /** Every key with its secret opened; a row that does not open is reported, not returned. */
  async loadAll(onUnreadable: (accessKeyId: string, e: Error) => void): Promise<AccessKeySecret[]> {
    const out: AccessKeySecret[] = [];
    for (const row of await query<Row>(this.pool, 'SELECT * FROM access_keys')) {
      try {
        out.push({ ...toRecord(row), secretAccessKey: this.box.open(row.secret_sealed, row.id) });
      } catch (e) {
        onUnreadable(row.id, e as Error);
      }
    }
    return out;
  }
}

function toRecord(r: Row): AccessKeyRecord {
  return { accessKeyId: r.id, tenant: r.tenant_id, description: r.description, createdAt: r.created_at };
}
