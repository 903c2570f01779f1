/**
 * The spool's record format: one ledger entry per line, `<crc32 as 8 hex> <JSON>\n`. The checksum
 * tells a record torn by a crash (only ever at the tail of the segment that was being written, and
 * never acknowledged) from a complete one; such records are skipped, never guessed at.
 */
import { crc32 } from 'node:zlib';
import type { InvocationSource, LedgerEntry, LedgerStatus } from './ledger.js';
import type { ColdStartKind } from '../scheduler/scheduler.js';

const NEWLINE = 0x0a;

export function encodeRecord(e: LedgerEntry): Buffer {
  const json = JSON.stringify({ ...e, startedAt: e.startedAt.toISOString() });
  const body = Buffer.from(json, 'utf8');
  const head = Buffer.from(`${(crc32(body) >>> 0).toString(16).padStart(8, '0')} `, 'latin1');
  return Buffer.concat([head, body, Buffer.from('\n')]);
}

export interface DecodedRecords {
  readonly entries: LedgerEntry[];
  /** Bytes of `buf` consumed: up to and including the last newline seen. */
  readonly consumed: number;
  /** Lines skipped because their checksum or shape was wrong. */
  readonly corrupt: number;
}

/** Decodes the complete lines of `buf`, at most `max` entries; a trailing partial line is left. */
export function decodeRecords(buf: Buffer, max = Number.POSITIVE_INFINITY): DecodedRecords {
  const entries: LedgerEntry[] = [];
  let corrupt = 0;
  let pos = 0;
  while (pos < buf.length && entries.length < max) {
    const nl = buf.indexOf(NEWLINE, pos);
    if (nl < 0) break;
    const entry = decodeLine(buf.subarray(pos, nl));
    if (entry) entries.push(entry);
    else corrupt += 1;
    pos = nl + 1;
  }
  return { entries, consumed: pos, corrupt };
}

function decodeLine(line: Buffer): LedgerEntry | undefined {
  if (line.length < 10 || line[8] !== 0x20) return undefined;
  const body = line.subarray(9);
  if (line.subarray(0, 8).toString('latin1') !== (crc32(body) >>> 0).toString(16).padStart(8, '0')) return undefined;
  try {
    const r = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    return toEntry(r);
  } catch {
    return undefined;
  }
}

function toEntry(r: Record<string, unknown>): LedgerEntry | undefined {
  const startedAt = new Date(String(r.startedAt));
  if (typeof r.invocationId !== 'string' || typeof r.attempt !== 'number' || Number.isNaN(startedAt.getTime())) return undefined;
  return {
    ...(r as unknown as LedgerEntry),
    invocationId: r.invocationId,
    attempt: r.attempt,
    startedAt,
    source: r.source as InvocationSource,
    coldStart: r.coldStart as ColdStartKind,
    status: r.status as LedgerStatus,
    errorType: (r.errorType as string | null | undefined) ?? null,
  };
}
