/**
 * The Lambda API's error envelope (compat.md §2.2): every non-2xx answer carries
 * `x-amzn-ErrorType`, `x-amzn-RequestId` and a JSON body with `Type` and the message under the key
 * AWS's model uses for that code. GantryErrors raised by the services below are mapped here, in
 * one place, so no route decides an AWS code by itself.
 */
import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import { isGantryError, type ErrorType } from '../../common/errors.js';

/** An AWS exception name with its status and the body key its model reads the message from. */
interface ExceptionShape {
  readonly status: number;
  readonly messageKey: 'message' | 'Message';
  readonly type: 'User' | 'Service';
}

const EXCEPTIONS: Readonly<Record<string, ExceptionShape>> = {
  ResourceNotFoundException: { status: 404, messageKey: 'Message', type: 'User' },
  InvalidParameterValueException: { status: 400, messageKey: 'message', type: 'User' },
  ValidationException: { status: 400, messageKey: 'message', type: 'User' },
  InvalidRequestContentException: { status: 400, messageKey: 'message', type: 'User' },
  RequestEntityTooLargeException: { status: 413, messageKey: 'message', type: 'User' },
  TooManyRequestsException: { status: 429, messageKey: 'message', type: 'User' },
  ResourceConflictException: { status: 409, messageKey: 'message', type: 'User' },
  PreconditionFailedException: { status: 412, messageKey: 'message', type: 'User' },
  UnsupportedMediaTypeException: { status: 415, messageKey: 'message', type: 'User' },
  AccessDeniedException: { status: 403, messageKey: 'Message', type: 'User' },
  UnrecognizedClientException: { status: 403, messageKey: 'message', type: 'User' },
  PolicyLengthExceededException: { status: 400, messageKey: 'message', type: 'User' },
  ProvisionedConcurrencyConfigNotFoundException: { status: 404, messageKey: 'message', type: 'User' },
  ResourceNotReadyException: { status: 502, messageKey: 'message', type: 'Service' },
  ServiceException: { status: 500, messageKey: 'Message', type: 'Service' },
  // Not AWS's: an operation of the model Gantry does not implement. 501 is not retried by the SDKs.
  UnsupportedOperationException: { status: 501, messageKey: 'message', type: 'User' },
  // What AWS answers for a path no operation has.
  UnknownOperationException: { status: 404, messageKey: 'message', type: 'User' },
};

export type LambdaExceptionName = keyof typeof EXCEPTIONS & string;

export class LambdaApiError extends Error {
  override readonly name = 'LambdaApiError';
  constructor(
    readonly code: LambdaExceptionName,
    message: string,
    /** Extra body members, e.g. a throttle's `Reason`. */
    readonly extra: Readonly<Record<string, string>> = {},
    /** Overrides the code's usual status (a 5xx GantryError keeps its own). */
    readonly statusOverride?: number,
  ) {
    super(message);
  }

  get status(): number {
    return this.statusOverride ?? EXCEPTIONS[this.code]?.status ?? 500;
  }
}

/** GantryError type → AWS exception name (compat.md §2.2). */
const FROM_GANTRY: Readonly<Record<ErrorType | 'PreconditionFailed', LambdaExceptionName>> = {
  ValidationError: 'InvalidParameterValueException',
  Unauthorized: 'UnrecognizedClientException',
  Forbidden: 'AccessDeniedException',
  ResourceNotFound: 'ResourceNotFoundException',
  ResourceConflict: 'ResourceConflictException',
  PreconditionFailed: 'PreconditionFailedException',
  RequestTooLarge: 'RequestEntityTooLargeException',
  TooManyRequests: 'TooManyRequestsException',
  InternalError: 'ServiceException',
  BadGateway: 'ServiceException',
  ServiceUnavailable: 'ServiceException',
  Timeout: 'ServiceException',
};

export function toLambdaError(e: unknown): LambdaApiError {
  if (e instanceof LambdaApiError) return e;
  if (isGantryError(e)) {
    const code = FROM_GANTRY[e.type as keyof typeof FROM_GANTRY] ?? 'ServiceException';
    if (code === 'TooManyRequestsException') {
      // Gantry's reasons are already AWS's words (common/invoke-protocol.ts).
      const reason = e.details?.['reason'];
      return new LambdaApiError(code, 'Rate Exceeded.', { Reason: typeof reason === 'string' ? reason : 'ConcurrentInvocationLimitExceeded' });
    }
    if (code === 'ServiceException') return new LambdaApiError(code, e.status >= 500 ? e.message : 'An internal error occurred.', {}, e.status >= 500 ? e.status : 500);
    return new LambdaApiError(code, e.message);
  }
  return new LambdaApiError('ServiceException', 'An internal error occurred.');
}

/** Writes the envelope; the caller logs what it must. */
export function writeLambdaError(res: http.ServerResponse, e: unknown, requestId: string = randomUUID()): LambdaApiError {
  const err = toLambdaError(e);
  const shape = EXCEPTIONS[err.code] ?? EXCEPTIONS.ServiceException!;
  const body = JSON.stringify({ Type: shape.type, [shape.messageKey]: err.message, ...err.extra });
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return err;
  }
  const headers: Record<string, string | number> = {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
    'x-amzn-RequestId': requestId,
    'x-amzn-ErrorType': err.code,
  };
  if (err.code === 'TooManyRequestsException') headers['Retry-After'] = '1';
  if (err.status === 413) headers.Connection = 'close';
  res.writeHead(err.status, headers);
  res.end(body);
  return err;
}
