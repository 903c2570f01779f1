/**
 * The one registry of caller-visible error types for the admin and invoke API (api.md, Errors).
 * Every GantryError maps to exactly one HTTP status through `statusOf`; a unit test keeps this
 * table and api.md in step. Function failures are never GantryErrors: they are invoke results.
 */

export const ERROR_STATUS = {
  ValidationError: 400,
  Unauthorized: 401,
  Forbidden: 403,
  ResourceNotFound: 404,
  ResourceConflict: 409,
  PreconditionFailed: 412,
  RequestTooLarge: 413,
  TooManyRequests: 429,
  InternalError: 500,
  BadGateway: 502,
  ServiceUnavailable: 503,
  Timeout: 504,
} as const;

export type ErrorType = keyof typeof ERROR_STATUS;

/** Which part of Gantry raised the error: logged, never sent, so operators can attribute it. */
export type Component =
  | 'admin-api'
  | 'invoke-api'
  | 'gateway'
  | 'scheduler'
  | 'containers'
  | 'runtime-api'
  | 'metering'
  | 'store'
  | 'code';

export class GantryError extends Error {
  override readonly name = 'GantryError';
  readonly type: ErrorType;
  readonly component: Component;
  /** Logged for operators, never sent to the client; only `details.reason` of a 429 goes out, as
   *  the invoke API's throttle-reason header (common/invoke-protocol.ts). */
  readonly details: Record<string, unknown> | undefined;

  constructor(
    type: ErrorType,
    message: string,
    opts: { component: Component; details?: Record<string, unknown>; cause?: unknown },
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.type = type;
    this.component = opts.component;
    this.details = opts.details;
  }

  get status(): number {
    return statusOf(this.type);
  }
}

export function statusOf(type: ErrorType): number {
  return ERROR_STATUS[type];
}

export function isGantryError(e: unknown): e is GantryError {
  return e instanceof GantryError;
}

/** The body api.md prescribes. Anything that is not a GantryError becomes a bare InternalError. */
export function errorBody(e: unknown): { status: number; body: { error: { type: ErrorType; message: string } } } {
  if (isGantryError(e)) {
    return { status: e.status, body: { error: { type: e.type, message: e.message } } };
  }
  return {
    status: 500,
    body: { error: { type: 'InternalError', message: 'An internal error occurred.' } },
  };
}
