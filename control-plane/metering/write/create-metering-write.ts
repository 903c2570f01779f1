/** The metering write path (spool ledger and ledger retention) from its slice of the config. */
import path from 'node:path';
import type { Pool } from '../../../common/db.js';
import type { Logger } from '../../../common/logger.js';
import type { ControlPlaneConfig } from '../../config.js';
import { LedgerRetention } from './ledger-retention.js';
import { SpoolLedger } from './spool-ledger.js';

export type MeteringWriteConfig = Pick<
  ControlPlaneConfig,
  | 'GANTRY_DATA_DIR'
  | 'GANTRY_NODE_ID'
  | 'GANTRY_METERING_SEGMENT_MAX_BYTES'
  | 'GANTRY_METERING_SPOOL_MAX_BYTES'
  | 'GANTRY_METERING_BATCH_MAX_ENTRIES'
  | 'GANTRY_LEDGER_RETENTION_MS'
  | 'GANTRY_LEDGER_RETENTION_INTERVAL_MS'
>;

export interface MeteringWrite {
  readonly ledger: SpoolLedger;
  readonly retention: LedgerRetention;
}

export function createMeteringWrite(deps: { readonly pool: Pool; readonly logger: Logger }, c: MeteringWriteConfig): MeteringWrite {
  const ledger = new SpoolLedger(deps, {
    // Per node: several nodes may share one data dir.
    spoolDir: path.join(c.GANTRY_DATA_DIR, 'spool', c.GANTRY_NODE_ID),
    segmentMaxBytes: c.GANTRY_METERING_SEGMENT_MAX_BYTES,
    segmentMaxAgeMs: 60_000,
    maxBacklogBytes: c.GANTRY_METERING_SPOOL_MAX_BYTES,
    shipBatchMaxEntries: c.GANTRY_METERING_BATCH_MAX_ENTRIES,
    rejectionFlushIntervalMs: 1_000,
    closeShipDeadlineMs: 5_000,
  });
  const retention = new LedgerRetention(deps, { retentionMs: c.GANTRY_LEDGER_RETENTION_MS, intervalMs: c.GANTRY_LEDGER_RETENTION_INTERVAL_MS });
  return { ledger, retention };
}
