/**
 * The metering and billing part of the control plane's configuration (spread into config.ts).
 */
import { z } from 'zod';
import { intFrom } from '../../common/config.js';
import { Decimal } from './pricing/decimal.js';

const decimal = (def: string) => z.string().refine((v) => Decimal.isValid(v), 'must be a non-negative decimal such as 0.20').default(def);
const DAY_MS = 86_400_000;

export const meteringShape = {
  // Lambda's x86 prices in us-east-1 (compat.md §9); a tenant's own prices (PUT /v1/prices) win.
  GANTRY_PRICE_PER_GB_SECOND: decimal('0.0000166667'),
  GANTRY_PRICE_PER_MILLION_REQUESTS: decimal('0.20'),
  GANTRY_PRICE_CURRENCY: z.string().regex(/^[A-Z]{3}$/).default('USD'),
  // Unshipped spool past which invocations are refused (503): ~3 million entries, hours of a busy
  // node's traffic while Postgres is away, and a bound on the disk it may fill.
  GANTRY_METERING_SPOOL_MAX_BYTES: intFrom(1024 * 1024 * 1024, 4096, 1024 * 1024 * 1024 * 1024),
  // Spool segment size: a crash replays at most this much that Postgres already has.
  GANTRY_METERING_SEGMENT_MAX_BYTES: intFrom(8 * 1024 * 1024, 4096, 1024 * 1024 * 1024),
  // Entries per INSERT into the ledger: large enough for 20k+/s, small enough for short statements.
  GANTRY_METERING_BATCH_MAX_ENTRIES: intFrom(5_000, 1, 50_000),
  // Ledger entries older than this are removed once the hourly rollup covers them (usage and
  // invoices stay the same); 13 months keeps a year of invoices with their detail.
  GANTRY_LEDGER_RETENTION_MS: intFrom(396 * DAY_MS, 3_600_000, 100 * 365 * DAY_MS),
  GANTRY_LEDGER_RETENTION_INTERVAL_MS: intFrom(3_600_000, 1_000, DAY_MS),
};
