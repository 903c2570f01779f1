import { appendFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { createLogger } from '../../../../../common/logger.js';
import type { LedgerEntry } from '../../../../../control-plane/metering/ledger.js';
import { Shipper } from '../../../../../control-plane/metering/write/shipper.js';
import { decodeRecords, encodeRecord, parseRecord } from '../../../../../control-plane/metering/write/spool-format.js';
import { NodeSpoolFiles, type SegmentFile, type SpoolFiles } from '../../../../../control-plane/metering/write/spool-files.js';
import { Spool, type SpoolOptions } from '../../../../../control-plane/metering/write/spool.js';

const logger = createLogger({ level: 'silent', name: 'spool-test' });
let n = 0;
function entry(over: Partial<LedgerEntry> = {}): LedgerEntry {
  n += 1;
  return {
    invocationId: `00000000-0000-7000-8000-${String(n).padStart(12, '0')}`,
    attempt: 1,
    tenantId: 'default',
    functionId: '11111111-1111-4111-8111-111111111111',
    functionName: 'f',
    versionId: 1,
    source: 'direct',
    startedAt: new Date('2026-01-01T00:00:00.123Z'),
    durationUs: 1234,
    initDurationUs: 0,
    billedMs: 2,
    memoryMb: 128,
    coldStart: 'none',
    status: 'succeeded',
    errorType: null,
    ...over,
  };
}

async function tempDir(t: Test): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'gantry-spool-unit-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const opts = (dir: string, over: Partial<SpoolOptions> = {}): SpoolOptions => ({
  dir,
  segmentMaxBytes: 1024 * 1024,
  segmentMaxAgeMs: 60_000,
  maxBacklogBytes: 1024 * 1024,
  retryMs: 10,
  ...over,
});

t.test('records round-trip; torn and corrupted lines are skipped, a partial tail is left', async (t) => {
  const a = entry({ errorType: 'Sandbox.Timedout', status: 'failed' });
  const b = entry();
  const good = Buffer.concat([encodeRecord(a), encodeRecord(b)]);
  const flipped = Buffer.from(encodeRecord(entry()));
  flipped[20] = flipped[20] === 0x41 ? 0x42 : 0x41;
  const partial = encodeRecord(entry()).subarray(0, 30);
  const d = decodeRecords(Buffer.concat([good, flipped, partial]));
  t.same(d.records.map(parseRecord), [a, b]);
  t.equal(d.corrupt, 1, 'the line with a wrong checksum');
  t.equal(d.consumed, good.length + flipped.length, 'the partial line is not consumed');
  t.equal(decodeRecords(good, 1).records.length, 1, 'at most max entries');
});

t.test('append resolves once durable; entries arriving during a write share the next one', async (t) => {
  const dir = await tempDir(t);
  const appends: number[] = [];
  const real = new NodeSpoolFiles();
  const files: SpoolFiles = {
    ...bind(real),
    create: async (f) => {
      const h = await real.create(f);
      return { append: async (buf) => (appends.push(decodeRecords(buf).records.length), h.append(buf)), close: () => h.close() };
    },
  };
  const spool = new Spool({ logger, files }, opts(dir));
  await spool.open();
  await Promise.all(Array.from({ length: 50 }, () => spool.append(entry())));
  t.equal(appends.reduce((a, b) => a + b, 0), 50);
  t.ok(appends.length <= 2, `50 concurrent appends took ${appends.length} writes`);
  t.equal(appends[0], 1, 'the first write did not wait for a batch to fill');
  const batch = await spool.nextBatch(1000);
  t.equal(batch?.records.length, 50, 'all of them durable and readable');
  await spool.close();
});

t.test('a segment is removed only once sealed and shipped; a restart replays what is left', async (t) => {
  const dir = await tempDir(t);
  const spool = new Spool({ logger }, opts(dir, { segmentMaxBytes: 4096 }));
  await spool.open();
  for (let i = 0; i < 40; i++) await spool.append(entry());
  const segments = (await readdir(dir)).length;
  t.ok(segments > 2, `rotated into ${segments} segments`);
  const first = await spool.nextBatch(5);
  t.equal(first?.records.length, 5);
  await spool.markShipped(first as NonNullable<typeof first>);
  t.equal((await readdir(dir)).length, segments, 'a partly shipped segment stays');
  await spool.close();

  const again = new Spool({ logger }, opts(dir, { segmentMaxBytes: 4096 }));
  const found = await again.open();
  t.equal(found.segments, segments, 'every segment is found after a restart');
  let replayed = 0;
  for (let b = await again.nextBatch(1000); b; b = await again.nextBatch(1000)) {
    t.ok(b.recovered);
    replayed += b.records.length;
    await again.markShipped(b);
  }
  t.equal(replayed, 40, 'shipping progress is not persisted: everything is replayed (the insert is idempotent)');
  t.same(await readdir(dir), [], 'shipped sealed segments are deleted');
  await again.close();
});

t.test('a record torn by a crash at the end of a segment is skipped on replay', async (t) => {
  const dir = await tempDir(t);
  const spool = new Spool({ logger }, opts(dir));
  await spool.open();
  await spool.append(entry());
  await spool.append(entry());
  await spool.close();
  const [name] = await readdir(dir);
  await appendFile(path.join(dir, name as string), encodeRecord(entry()).subarray(0, 40));
  const again = new Spool({ logger }, opts(dir));
  await again.open();
  const b = await again.nextBatch(1000);
  t.equal(b?.records.length, 2);
  t.equal(b?.corrupt, 1);
  await again.markShipped(b as NonNullable<typeof b>);
  t.equal(await again.nextBatch(1000), undefined, 'the torn tail is not retried forever');
  await again.close();
});

t.test('a failed write refuses its callers and new invocations, keeps the entries and retries them', async (t) => {
  const dir = await tempDir(t);
  const real = new NodeSpoolFiles();
  let failing = true;
  const files: SpoolFiles = {
    ...bind(real),
    create: async (f) => {
      const h: SegmentFile = await real.create(f);
      return {
        append: async (buf) => {
          if (failing) throw Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' });
          await h.append(buf);
        },
        close: () => h.close(),
      };
    },
  };
  const spool = new Spool({ logger, files }, opts(dir));
  await spool.open();
  t.doesNotThrow(() => spool.admit());
  const lost = entry();
  await t.rejects(spool.append(lost), { name: 'GantryError', type: 'ServiceUnavailable' }, 'the caller is refused');
  t.throws(() => spool.admit(), { name: 'GantryError', type: 'ServiceUnavailable', component: 'metering' }, 'new invocations are refused before they run');
  t.notOk(spool.healthy());
  failing = false;
  const deadline = Date.now() + 2_000;
  while (!spool.healthy() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  t.ok(spool.healthy(), 'the retry succeeded: writable again');
  const ids: string[] = [];
  for (let b = await spool.nextBatch(1000); b; b = await spool.nextBatch(1000)) {
    ids.push(...b.records.map((r) => parseRecord(r)?.invocationId as string));
    await spool.markShipped(b);
  }
  t.same(ids, [lost.invocationId], 'the entry of the refused caller is kept: its function ran');
  await spool.close();
});

t.test('an unshipped backlog over its limit refuses new invocations until shipped', async (t) => {
  const dir = await tempDir(t);
  const spool = new Spool({ logger }, opts(dir, { maxBacklogBytes: 2000 }));
  await spool.open();
  for (let i = 0; i < 10; i++) await spool.append(entry());
  t.throws(() => spool.admit(), { name: 'GantryError', type: 'ServiceUnavailable' });
  for (let b = await spool.nextBatch(1000); b; b = await spool.nextBatch(1000)) await spool.markShipped(b);
  t.doesNotThrow(() => spool.admit());
  await spool.close();
  await t.rejects(spool.append(entry()), { name: 'GantryError', type: 'ServiceUnavailable' }, 'closed');
});

t.test('the shipper retries a failing sink and marks entries shipped only after it succeeded', async (t) => {
  const dir = await tempDir(t);
  const spool = new Spool({ logger }, opts(dir));
  await spool.open();
  let down = true;
  const stored = new Map<string, LedgerEntry>();
  const shipper = new Shipper(
    {
      spool,
      logger,
      sink: {
        insert: async (records) => {
          if (down) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
          let fresh = 0;
          for (const e of records.map(parseRecord) as LedgerEntry[]) if (!stored.has(e.invocationId)) (stored.set(e.invocationId, e), fresh++);
          return fresh;
        },
      },
      quarantine: async () => {
        throw new Error('nothing should be quarantined');
      },
    },
    { batchMaxEntries: 7, concurrency: 2, retryMinMs: 5, retryMaxMs: 20 },
  );
  shipper.start(0);
  await Promise.all(Array.from({ length: 30 }, () => spool.append(entry())));
  await new Promise((r) => setTimeout(r, 50));
  t.ok(shipper.lagging, 'retrying while the sink is down');
  t.ok(spool.backlogBytes() > 0, 'nothing is marked shipped');
  down = false;
  // The backlog empties before the shipper counts its last batch: wait for both, bounded.
  const deadline = Date.now() + 30_000;
  while ((spool.backlogBytes() > 0 || shipper.stats.inserted < 30 || shipper.lagging) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  t.equal(stored.size, 30, 'everything arrived once the sink was back');
  t.equal(shipper.stats.inserted, 30);
  t.notOk(shipper.lagging);
  await spool.close();
  await shipper.close(100);
});

t.test('a record Postgres refuses as data is set aside; the rest of its batch ships', async (t) => {
  const dir = await tempDir(t);
  const spool = new Spool({ logger }, opts(dir));
  await spool.open();
  const bad = entry({ functionName: 'poison' });
  const stored: string[] = [];
  const quarantined: string[] = [];
  const shipper = new Shipper(
    {
      spool,
      logger,
      sink: {
        insert: async (records) => {
          const entries = records.map(parseRecord) as LedgerEntry[];
          if (entries.some((e) => e.functionName === 'poison')) throw Object.assign(new Error('new row violates check constraint'), { code: '23514' });
          stored.push(...entries.map((e) => e.invocationId));
          return entries.length;
        },
      },
      quarantine: async (record) => {
        quarantined.push(parseRecord(record)?.invocationId as string);
      },
    },
    { batchMaxEntries: 3, concurrency: 2, retryMinMs: 5, retryMaxMs: 20 },
  );
  const good = Array.from({ length: 20 }, () => entry());
  await Promise.all([...good.slice(0, 7), bad, ...good.slice(7)].map((e) => spool.append(e)));
  shipper.start(0);
  const deadline = Date.now() + 2_000;
  while (spool.backlogBytes() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  t.same(quarantined, [bad.invocationId]);
  t.same(stored.sort(), good.map((e) => e.invocationId).sort(), 'every other entry shipped');
  t.equal(shipper.stats.quarantined, 1);
  await spool.close();
  await shipper.close(100);
});

function bind(f: SpoolFiles): SpoolFiles {
  return {
    ensureDir: (d) => f.ensureDir(d),
    list: (d) => f.list(d),
    create: (p) => f.create(p),
    read: (p, o, l) => f.read(p, o, l),
    remove: (p) => f.remove(p),
  };
}
