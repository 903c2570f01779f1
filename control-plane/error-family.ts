/**
 * The admin and invoke API's error body (api.md "Errors") for a status the control plane's HTTP
 * server answers by itself: a request Node's parser refused, or one that failed unexpectedly.
 */
import type { ErrorBody } from '../common/http-boundary.js';
import type { ErrorType } from '../common/errors.js';

const BY_STATUS: Readonly<Record<number, [ErrorType, string]>> = {
  400: ['ValidationError', 'The request is not valid HTTP.'],
  408: ['Timeout', 'The request was not received in time.'],
  413: ['RequestTooLarge', 'The request is larger than the limit.'],
  431: ['RequestTooLarge', 'The request headers are larger than the limit.'],
  500: ['InternalError', 'An internal error occurred.'],
};

export const apiErrorBody: ErrorBody = (status) => {
  const [type, message] = BY_STATUS[status] ?? (BY_STATUS[400] as [ErrorType, string]);
  return { contentType: 'application/json', text: JSON.stringify({ error: { type, message } }) };
};
