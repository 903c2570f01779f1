/**
 * The bench's reference ledger: straight to Postgres with group commit, no spool. Entries that
 * arrive while a write is in flight are written together by the next one; ON CONFLICT DO NOTHING
 * makes a replayed write harmless, and the hourly rollup is kept in the same statement
 * (control-plane/metering/write/ledger-insert.ts). The control plane runs the SpoolLedger; this
 * stays only so the bench can show what the spool costs next to it.
 */

/** @param {(p: string) => Promise<any>} dist imports a built module of the control plane */
export async function postgresLedgerClass(dist) {
  const { insertLedgerEntries } = await dist('control-plane/metering/write/ledger-insert.js');
  const { GantryError } = await dist('common/errors.js');

  return class PostgresLedger {
    queue = [];
    flushing = undefined;
    closed = false;

    constructor(pool, opts = { maxBatch: 1000 }) {
      this.pool = pool;
      this.opts = opts;
    }

    append(entry) {
      if (this.closed) return Promise.reject(new GantryError('ServiceUnavailable', 'Metering is closed.', { component: 'metering' }));
      return new Promise((resolve, reject) => {
        this.queue.push({ entry, resolve, reject });
        this.flushing ??= this.drain();
      });
    }

    async close() {
      this.closed = true;
      await this.flushing;
    }

    async drain() {
      // Yield once so entries appended in the same tick share the first write.
      await Promise.resolve();
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.opts.maxBatch);
        try {
          await insertLedgerEntries(this.pool, batch.map((p) => p.entry));
          for (const p of batch) p.resolve();
        } catch (e) {
          const err = new GantryError('ServiceUnavailable', 'The invocation could not be metered.', { component: 'metering', cause: e });
          for (const p of batch) p.reject(err);
        }
      }
      this.flushing = undefined;
    }
  };
}
