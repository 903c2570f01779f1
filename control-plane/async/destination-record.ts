/**
 * The record a destination function receives (api.md; Lambda's invocation record for
 * asynchronous invocations). Pure: built from what the last attempt returned.
 */
import { asJsonText } from './json-text.js';
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

/**
 * The record as JSON text. The event and the last payload are spliced in as they are (or as a
 * string when they are not JSON), never parsed and serialised again: they may be nested deeper
 * than any serialiser's stack (json-text.ts).
 */
export function destinationRecord(i: DestinationRecordInput): string {
  const head = JSON.stringify({
    version: '1.0',
    timestamp: i.now.toISOString(),
    requestContext: {
      requestId: i.invocationId,
      functionArn: `${i.functionArn}:$LATEST`,
      condition: i.condition,
      approximateInvokeCount: i.attemptsRun,
    },
  });
  let record = `${head.slice(0, -1)},"requestPayload":${asJsonText(i.event)}`;
  if (i.last !== undefined) {
    const responseContext = { statusCode: 200, executedVersion: '$LATEST', ...(i.last.status === 'failed' ? { functionError: 'Unhandled' } : {}) };
    record += `,"responseContext":${JSON.stringify(responseContext)},"responsePayload":${asJsonText(i.last.payload.toString('utf8'))}`;
  }
  return `${record}}`;
}

export { parseOrText } from './json-text.js';
