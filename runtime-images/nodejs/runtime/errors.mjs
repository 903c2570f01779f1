// Error types and the ErrorRequest body the runtime posts (compat.md §1.3), shaped like the
// official Node.js runtime interface client (RIC): {"errorType","errorMessage","trace"}.
import { types } from 'node:util';

/** Base for the runtime's own `Runtime.*` errors. `name` is the posted errorType. */
class RuntimeError extends Error {
  constructor(name, message, cause) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = name;
  }
}

export class MalformedHandlerName extends RuntimeError {
  constructor(message) {
    super('Runtime.MalformedHandlerName', message);
  }
}

export class HandlerNotFound extends RuntimeError {
  constructor(message) {
    super('Runtime.HandlerNotFound', message);
  }
}

/** Wraps the loader's error; the message is `String(cause)`, as in the RIC. */
export class ImportModuleError extends RuntimeError {
  constructor(cause) {
    super('Runtime.ImportModuleError', String(cause), cause);
    adoptStack(this, cause);
  }
}

export class UserCodeSyntaxError extends RuntimeError {
  constructor(cause) {
    super('Runtime.UserCodeSyntaxError', String(cause), cause);
    adoptStack(this, cause);
  }
}

/** An unhandled rejection; the message is the reason's `toString()`, as in the RIC. */
export class UnhandledPromiseRejection extends RuntimeError {
  constructor(reason) {
    super('Runtime.UnhandledPromiseRejection', safeString(reason), reason);
    if (isErrorLike(reason)) adoptStack(this, reason);
  }
}

/** The handler's promise never settled (or init never finished) and the event loop drained. */
export class NodeJsExit extends RuntimeError {
  constructor(message) {
    super('Runtime.NodeJsExit', message);
    this.stack = `${this.name}: ${this.message}`;
  }
}

/** The handler's result could not be turned into JSON (circular structure, BigInt, ...). */
export class MarshalError extends RuntimeError {
  constructor(cause) {
    super('Runtime.MarshalError', `Unable to stringify response body: ${messageOf(cause)}`, cause);
    this.stack = `${this.name}: ${this.message}`;
  }
}

/**
 * The ErrorRequest body for any thrown value (RIC `Errors.toRapidResponse`):
 * - an Error: errorType = name, errorMessage = message, trace = stack lines;
 * - anything else: errorType = typeof value, errorMessage = value.toString(), trace = [].
 * DEL (0x7f) is escaped as in the RIC, because it is not allowed in the header that mirrors it.
 */
export function toErrorResponse(error) {
  try {
    if (isErrorLike(error)) {
      const stack = typeof error.stack === 'string' ? error.stack : `${error.name}: ${error.message}`;
      return {
        errorType: escapeDel(String(error.name)),
        errorMessage: escapeDel(String(error.message)),
        trace: escapeDel(stack).split('\n'),
      };
    }
    return { errorType: typeof error, errorMessage: String(error), trace: [] };
  } catch {
    return {
      errorType: 'handled',
      errorMessage:
        'callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack',
      trace: [],
    };
  }
}

/** The log line the RIC prints for a failed invoke: `{"errorType","errorMessage","stack"}`. */
export function formatForLog(errorResponse) {
  return JSON.stringify({
    errorType: errorResponse.errorType,
    errorMessage: errorResponse.errorMessage,
    stack: errorResponse.trace,
  });
}

export function isErrorLike(value) {
  if (types.isNativeError(value) || value instanceof Error) return true;
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof value.name === 'string' &&
    typeof value.message === 'string' &&
    'stack' in value
  );
}

/** A header-safe errorType for `Lambda-Runtime-Function-Error-Type`. */
export function errorTypeHeader(errorType) {
  return typeof errorType === 'string' && /^[\x21-\x7e]{1,200}$/.test(errorType) ? errorType : 'Runtime.Unknown';
}

function adoptStack(target, cause) {
  if (cause && typeof cause.stack === 'string') target.stack = cause.stack;
}

function escapeDel(s) {
  return s.replaceAll('\x7f', '%7F');
}

function messageOf(e) {
  return e && typeof e.message === 'string' ? e.message : safeString(e);
}

function safeString(v) {
  try {
    return String(v);
  } catch {
    return Object.prototype.toString.call(v);
  }
}
