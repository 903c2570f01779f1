/** `--since 10m`: a span back from now (s, m, h, d), or an RFC 3339 time. */
import { usageError } from './exit-codes.js';

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function sinceTime(v: string, nowMs: number = Date.now()): Date {
  const m = /^(\d{1,9})([smhd])$/.exec(v);
  if (m !== null) return new Date(nowMs - Number(m[1]) * (UNIT_MS[m[2] ?? 's'] ?? 1000));
  const d = /^\d{4}-\d{2}-\d{2}T/.test(v) ? new Date(v) : undefined;
  if (d === undefined || Number.isNaN(d.getTime())) throw usageError(`--since ${v}: give a span like 30s, 10m, 2h, 1d or a time like 2026-01-01T00:00:00Z`);
  return d;
}
