/**
 * The control plane's file-descriptor budget. Every environment holds a few fds of its own (its
 * Runtime API listener, its runtime's first connection, the Docker wait and log streams); those
 * are bounded by the number of environments, which memory bounds, and are always granted.
 * Connections past an environment's first are the part a hostile function can multiply, so they
 * are granted only while the total stays out of the headroom kept for everything else the
 * process needs: Docker calls, the metering spool, Postgres and Redis pools, code extraction,
 * inbound invoke and admin connections (the gateways' keep-alive pools).
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Fds an environment holds besides its Runtime API connections: the listener, Docker wait and log streams. */
export const FDS_PER_ENVIRONMENT = 3;

export interface FdBudgetStats {
  readonly limit: number;
  readonly headroom: number;
  readonly inUse: number;
  readonly refused: number;
}

export class FdBudget {
  private used = 0;
  private refusedCount = 0;

  constructor(
    readonly limit: number,
    readonly headroom: number,
  ) {}

  /** What environments may hold in all before new extra connections are refused. */
  get capacity(): number {
    return Math.max(0, this.limit - this.headroom);
  }

  /** An environment's own fds (listener, first connection, Docker streams): always granted, counted. */
  reserve(n: number): void {
    this.used += n;
  }

  release(n: number): void {
    this.used = Math.max(0, this.used - n);
  }

  /** An extra connection: granted (and counted) only while the total stays within capacity. */
  tryAcquire(): boolean {
    if (this.used + 1 > this.capacity) {
      this.refusedCount++;
      return false;
    }
    this.used++;
    return true;
  }

  stats(): FdBudgetStats {
    return { limit: this.limit, headroom: this.headroom, inUse: this.used, refused: this.refusedCount };
  }
}

/** A budget that never refuses (unit tests of one channel, tools). */
export function unlimitedFdBudget(): FdBudget {
  return new FdBudget(Number.MAX_SAFE_INTEGER, 0);
}

/**
 * The soft RLIMIT_NOFILE of this process from /proc/self/limits ("Max open files  <soft>  <hard>
 * files"); undefined where there is no procfs or the line does not parse.
 */
export function readFdLimit(limitsText?: string): number | undefined {
  let text = limitsText;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/limits', 'utf8');
    } catch {
      return undefined;
    }
  }
  const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(text);
  if (!m) return undefined;
  if (m[1] === 'unlimited') return Number.MAX_SAFE_INTEGER;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

/**
 * The default headroom: a tenth of the limit, at least 1024 fds, but never more than half the
 * limit, so that a 1024-fd process still lets its environments hold 512.
 */
export function defaultFdHeadroom(limit: number): number {
  return Math.min(Math.floor(limit / 2), Math.max(1024, Math.floor(limit / 10)));
}

/** Open fds of this process, for /metrics (read at scrape time only); undefined without procfs. */
export function countOpenFds(): number | undefined {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return undefined;
  }
}
