/**
 * Per-tenant prices (`tenant_prices`), falling back to the configured defaults. Prices are
 * Postgres numerics, read and written as decimal strings, so what a user sets is what is billed,
 * digit for digit.
 */
import type { Pool } from '../../../common/db.js';
import { query } from '../../postgres/transaction.js';
import { Decimal } from './decimal.js';
import type { Prices } from './pricing.js';

export interface PriceView {
  readonly pricePerGbSecond: string;
  readonly pricePerMillionRequests: string;
  readonly currency: string;
  /** `default` until the tenant has prices of its own. */
  readonly source: 'default' | 'tenant';
  readonly updatedAt: string | null;
}

export interface PriceDefaults {
  readonly pricePerGbSecond: string;
  readonly pricePerMillionRequests: string;
  readonly currency: string;
}

export class PriceStore {
  constructor(
    private readonly pool: Pool,
    private readonly defaults: PriceDefaults,
  ) {}

  async view(tenantId: string): Promise<PriceView> {
    const rows = await query<{ g: string; r: string; currency: string; updated_at: Date }>(
      this.pool,
      'SELECT price_per_gb_second::text AS g, price_per_million_requests::text AS r, currency, updated_at FROM tenant_prices WHERE tenant_id = $1',
      [tenantId],
    );
    const row = rows[0];
    if (!row) return { ...this.defaults, source: 'default', updatedAt: null };
    return { pricePerGbSecond: row.g, pricePerMillionRequests: row.r, currency: row.currency, source: 'tenant', updatedAt: row.updated_at.toISOString() };
  }

  async prices(tenantId: string): Promise<Prices> {
    return toPrices(await this.view(tenantId));
  }

  async put(tenantId: string, p: PriceDefaults): Promise<PriceView> {
    await query(
      this.pool,
      `INSERT INTO tenant_prices (tenant_id, price_per_gb_second, price_per_million_requests, currency)
       VALUES ($1, $2::numeric, $3::numeric, $4)
       ON CONFLICT (tenant_id) DO UPDATE SET price_per_gb_second = EXCLUDED.price_per_gb_second,
         price_per_million_requests = EXCLUDED.price_per_million_requests, currency = EXCLUDED.currency, updated_at = now()`,
      [tenantId, p.pricePerGbSecond, p.pricePerMillionRequests, p.currency],
    );
    return this.view(tenantId);
  }

  async reset(tenantId: string): Promise<void> {
    await query(this.pool, 'DELETE FROM tenant_prices WHERE tenant_id = $1', [tenantId]);
  }
}

export function toPrices(v: PriceDefaults): Prices {
  return { pricePerGbSecond: Decimal.parse(v.pricePerGbSecond), pricePerMillionRequests: Decimal.parse(v.pricePerMillionRequests), currency: v.currency };
}
