/**
 * Pricing, pure (compat.md §9): GB-seconds = billedMs/1000 × memoryMb/1024 on the configured
 * memory, computed from the ledger's exact sum of billedMs × memoryMb ("MB-ms"); request cost per
 * million requests. Usage rows carry the exact cost; invoice lines round each amount half-up to
 * 1e-6 and the invoice total is the sum of the rounded lines, so it adds up on paper.
 */
import { Decimal } from './decimal.js';

export interface Prices {
  readonly pricePerGbSecond: Decimal;
  readonly pricePerMillionRequests: Decimal;
  readonly currency: string;
}

/** Sums over some ledger entries: requests, Σ billedMs and Σ billedMs × memoryMb. */
export interface UsageTotals {
  readonly requests: bigint;
  readonly billedMs: bigint;
  readonly mbMs: bigint;
}

/** Money on invoices: millionths of the currency unit. */
export const MONEY_SCALE = 6;

/** 1 / (1000 ms × 1024 MB) = 9765625 × 10^-13, exactly. */
const GB_S_PER_MB_MS = Decimal.fromUnits(9_765_625n, 13);

export function gbSeconds(mbMs: bigint): Decimal {
  return Decimal.of(mbMs).mul(GB_S_PER_MB_MS);
}

export function requestCost(requests: bigint, p: Prices): Decimal {
  return Decimal.of(requests).mul(p.pricePerMillionRequests).shift(6);
}

export function computeCost(mbMs: bigint, p: Prices): Decimal {
  return gbSeconds(mbMs).mul(p.pricePerGbSecond);
}

/** Exact cost of some usage (no rounding). */
export function exactCost(u: UsageTotals, p: Prices): Decimal {
  return requestCost(u.requests, p).add(computeCost(u.mbMs, p));
}

export interface InvoiceLine {
  readonly function: string;
  readonly requests: number;
  readonly gbSeconds: string;
  readonly requestCost: string;
  readonly computeCost: string;
  readonly total: string;
}

export interface Invoice {
  readonly month: string;
  readonly currency: string;
  readonly lines: InvoiceLine[];
  readonly total: string;
}

export function buildInvoice(month: string, rows: readonly (UsageTotals & { readonly function: string })[], p: Prices): Invoice {
  let total = Decimal.ZERO;
  const lines = rows.map((r) => {
    const req = requestCost(r.requests, p).round(MONEY_SCALE);
    const comp = computeCost(r.mbMs, p).round(MONEY_SCALE);
    const line = req.add(comp);
    total = total.add(line);
    return {
      function: r.function,
      requests: Number(r.requests),
      gbSeconds: gbSeconds(r.mbMs).toString(),
      requestCost: req.toFixed(MONEY_SCALE),
      computeCost: comp.toFixed(MONEY_SCALE),
      total: line.toFixed(MONEY_SCALE),
    };
  });
  return { month, currency: p.currency, lines, total: total.toFixed(MONEY_SCALE) };
}
