/**
 * What an async event carries through the queue, and how ids are made. An invocation id is a
 * UUID (the ledger's key). Ids derived from another id (a destination's event, a schedule's
 * tick) are deterministic, so a redelivered job enqueues or bills the same invocation, not a new one.
 */
import { createHash } from 'node:crypto';
import type { InvocationSource } from '../metering/ledger.js';

export interface AsyncJobData {
  readonly tenantId: string;
  readonly functionName: string;
  /** The event, as JSON text. */
  readonly event: string;
  readonly source: InvocationSource;
  /** When the event was accepted (ms since the epoch): its age counts from here. */
  readonly createdAtMs: number;
  /** The attempt to run next (1-based). */
  readonly attempt: number;
  /** Returns to the queue because of throttles or platform errors (they consume no retry). */
  readonly bounces: number;
  /** The last attempt's error payload (JSON text), shown while a retry is pending. */
  readonly lastError?: string;
  /**
   * The id is derived (a destination's event): a redelivered parent enqueues it again after it
   * may have run, so the worker checks for an outcome before running it.
   */
  readonly derived?: boolean;
  /** Set on schedule ticks: the schedule whose input (or scheduled event) this is. */
  readonly scheduleId?: string;
  /** The qualifier the event was sent with ($LATEST, a version, an alias), resolved per attempt. */
  readonly qualifier?: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(s: string): boolean {
  return UUID.test(s);
}

/** A UUID (version 8 layout, name-based) from any string: the same input gives the same id. */
export function derivedUuid(...parts: string[]): string {
  const h = createHash('sha256').update(parts.join('\u0000')).digest();
  h[6] = ((h[6] as number) & 0x0f) | 0x80;
  h[8] = ((h[8] as number) & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

/** The invocation id of a job: its own id when that is a UUID, else one derived from it (ticks). */
export function invocationIdOf(jobId: string): string {
  return isUuid(jobId) ? jobId.toLowerCase() : derivedUuid('job', jobId);
}
