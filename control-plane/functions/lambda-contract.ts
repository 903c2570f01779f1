/**
 * What Lambda's contract fixes about a function, whatever part of Gantry asks: its name rule, its
 * ARN, and the environment variables Lambda reserves (compat.md §1.4). Admin validation, the
 * container spec, the invoker and the async worker all read these, so none of them owns them.
 */

export const FUNCTION_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** Lambda's alias name rule: 1-128 of letters, digits, - and _, not all digits (those are versions). */
export const ALIAS_NAME = /^(?![0-9]+$)[A-Za-z0-9_-]{1,128}$/;

/** A qualifier: `$LATEST`, a published version number, or an alias name. */
export const QUALIFIER = /^(\$LATEST|[1-9][0-9]{0,9}|(?![0-9]+$)[A-Za-z0-9_-]{1,128})$/;

/** What a route, a destination or a schedule may target: `fn`, `fn:alias`, `fn:3`, `fn:$LATEST`. */
export const QUALIFIED_FUNCTION_NAME = /^[A-Za-z0-9_-]{1,64}(:(\$LATEST|[1-9][0-9]{0,9}|(?![0-9]+$)[A-Za-z0-9_-]{1,128}))?$/;

export { splitQualifiedName } from '../../common/invoke-protocol.js';

export function functionArn(region: string, name: string, qualifier?: string): string {
  return `arn:aws:lambda:${region}:000000000000:function:${name}${qualifier === undefined ? '' : `:${qualifier}`}`;
}

/** Variables a function may not set (compat.md §1.4 reserved list). */
export const RESERVED_ENV_KEYS: ReadonlySet<string> = new Set([
  '_HANDLER',
  '_X_AMZN_TRACE_ID',
  'AWS_DEFAULT_REGION',
  'AWS_REGION',
  'AWS_EXECUTION_ENV',
  'AWS_LAMBDA_FUNCTION_NAME',
  'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
  'AWS_LAMBDA_FUNCTION_VERSION',
  'AWS_LAMBDA_INITIALIZATION_TYPE',
  'AWS_LAMBDA_LOG_GROUP_NAME',
  'AWS_LAMBDA_LOG_STREAM_NAME',
  'AWS_ACCESS_KEY',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_LAMBDA_RUNTIME_API',
  'LAMBDA_TASK_ROOT',
  'LAMBDA_RUNTIME_DIR',
  'TZ',
  'GANTRY_CONNECTIONS_URL',
  'GANTRY_CONNECTIONS_TOKEN',
]);
