/**
 * The record a destination function receives (api.md; Lambda's invocation record for
 * asynchronous invocations). Pure: built from what the last attempt returned.
 */
import type { FailureCondition } from './retry-policy.js';

export type DestinationCondition = 'Success' | FailureCondition;

export interface LastAttempt {
  readonly status: 'succeeded' | 'failed';
  /** The bytes the function (or runtime) returned: its result, or its error JSON. */
  readonly payload: Buffer;
}

export interface DestinationRecordInput {
  readonly invocationId: string;
  /** Unqualified function ARN; the record names `$LATEST`, the version that ran. */
  readonly functionArn: string;
  readonly condition: DestinationCondition;
  readonly attemptsRun: number;
  readonly event: string;
  /** Absent when the event never ran (it aged out before its first attempt). */
  readonly last: LastAttempt | undefined;
  readonly now: Date;
}

export function destinationRecord(i: DestinationRecordInput): Record<string, unknown> {
  const record: Record<string, unknown> = {
    version: '1.0',
    timestamp: i.now.toISOString(),
    requestContext: {
      requestId: i.invocationId,
      functionArn: `${i.functionArn}:$LATEST`,
      condition: i.condition,
      approximateInvokeCount: i.attemptsRun,
    },
    requestPayload: parseOrText(i.event),
  };
  if (i.last !== undefined) {
    record.responseContext = {
      statusCode: 200,
      executedVersion: '$LATEST',
      ...(i.last.status === 'failed' ? { functionError: 'Unhandled' } : {}),
    };
    record.responsePayload = parseOrText(i.last.payload.toString('utf8'));
  }
  return record;
}

/** JSON as its value; anything else (a `provided` function may return raw bytes) as a string. */
export function parseOrText(text: string): unknown {
  if (text === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
