/**
 * The spool's record format: one ledger entry per line, `<crc32 as 8 hex> <JSON>\n`. The checksum
 * tells a record torn by a crash (only ever at the tail of the segment that was being written, and
 * never acknowledged) from a complete one; such records are skipped, never guessed at.
 */
import { crc32 } from 'node:zlib';
import { entryJson } from './ledger-insert.js';
import type { ColdStartKind, InvocationSource, LedgerEntry, LedgerStatus } from '../ledger.js';

const NEWLINE = 0x0a;

export function encodeRecord(e: LedgerEntry): Buffer {
  const json = entryJson(e);
  const size = Buffer.byteLength(json, 'utf8');
  // One allocation per record on the hot path: "<crc32 as 8 hex> <json>\n".
  const out = Buffer.allocUnsafe(9 + size + 1);
  out.write(json, 9, 'utf8');
  out.write((crc32(out.subarray(9, 9 + size)) >>> 0).toString(16).padStart(8, '0'), 0, 'latin1');
  out[8] = 0x20;
  out[9 + size] = NEWLINE;
  return out;
}

export interface DecodedRecords {
  /** The JSON bodies of the records whose checksum holds. */
  readonly records: string[];
  /** Bytes of `buf` consumed: up to and including the last newline seen. */
  readonly consumed: number;
  /** Lines skipped because their checksum or shape was wrong. */
  readonly corrupt: number;
}

/** Decodes the complete lines of `buf`, at most `max` entries; a trailing partial line is left. */
export function decodeRecords(buf: Buffer, max = Number.POSITIVE_INFINITY): DecodedRecords {
  const records: string[] = [];
  let corrupt = 0;
  let pos = 0;
  while (pos < buf.length && records.length < max) {
    const nl = buf.indexOf(NEWLINE, pos);
    if (nl < 0) break;
    const body = checkedBody(buf.subarray(pos, nl));
    if (body !== undefined) records.push(body);
    else corrupt += 1;
    pos = nl + 1;
  }
  return { records, consumed: pos, corrupt };
}

function checkedBody(line: Buffer): string | undefined {
  if (line.length < 10 || line[8] !== 0x20) return undefined;
  const body = line.subarray(9);
  if (line.subarray(0, 8).toString('latin1') !== (crc32(body) >>> 0).toString(16).padStart(8, '0')) return undefined;
  return body.toString('utf8');
}

/** A record body back as an entry (tests and tools; shipping sends the JSON as it is). */
export function parseRecord(body: string): LedgerEntry | undefined {
  let r: Record<string, unknown>;
  try {
    r = JSON.parse(body) as Record<string, unknown>;
  } catch {
    return undefined;
  }
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
