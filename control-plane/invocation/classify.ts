/**
 * Turns what the Runtime API reported into the caller-visible outcome, pure: the status, the
 * error type and the payload Lambda would return (compat.md §1.1 platform outcomes table).
 */
import type { ContainerExit } from '../containers/container-runtime.js';
import type { ReadyOutcome, RuntimeReply } from '../runtime-api/runtime-reply.js';
import { MAX_RESPONSE_BYTES } from '../runtime-api/runtime-reply.js';

export interface Classified {
  readonly status: 'succeeded' | 'failed';
  readonly errorType: string | null;
  readonly payload: Buffer;
  /** Content type of a successful payload as the runtime posted it. */
  readonly contentType: string;
  /** Whether the environment can take another invocation. */
  readonly reusable: boolean;
}

type DeliveredReply = Exclude<RuntimeReply, { kind: 'not-delivered' }>;

export function classifyReply(reply: DeliveredReply, requestId: string, timeoutMs: number): Classified {
  switch (reply.kind) {
    case 'response':
      return { status: 'succeeded', errorType: null, payload: reply.body, contentType: reply.contentType, reusable: true };
    case 'error':
      return failed(reply.errorType, reply.body, true);
    case 'too-large':
      return failure('Function.ResponseSizeTooLarge', `Response payload size exceeded maximum allowed payload size (${MAX_RESPONSE_BYTES} bytes).`, false);
    case 'timeout':
      return failure('Sandbox.Timedout', `RequestId: ${requestId} Error: Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`, false);
    case 'exited':
      return exitedFailure(reply.exit, requestId);
  }
}

export function classifyInitFailure(outcome: Exclude<ReadyOutcome, { kind: 'ready' }>, requestId: string, timeoutMs: number): Classified {
  switch (outcome.kind) {
    case 'init-error':
      return failed(outcome.errorType, outcome.body, false);
    case 'timeout':
      return failure('Sandbox.Timedout', `RequestId: ${requestId} Error: Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`, false);
    case 'exited':
      return exitedFailure(outcome.exit, requestId);
  }
}

function exitedFailure(exit: ContainerExit | undefined, requestId: string): Classified {
  if (exit?.oomKilled) {
    return failure('Runtime.OutOfMemory', `RequestId: ${requestId} Error: Runtime exited with error: signal: killed`, false);
  }
  const reason =
    exit?.exitCode === undefined || exit.exitCode === null || exit.exitCode === 0
      ? 'Runtime exited without providing a reason'
      : `Runtime exited with error: exit status ${exit.exitCode}`;
  return failure('Runtime.ExitError', `RequestId: ${requestId} Error: ${reason}`, false);
}

function failure(errorType: string, errorMessage: string, reusable: boolean): Classified {
  return failed(errorType, Buffer.from(JSON.stringify({ errorType, errorMessage })), reusable);
}

function failed(errorType: string, payload: Buffer, reusable: boolean): Classified {
  return { status: 'failed', errorType, payload, contentType: 'application/json', reusable };
}
