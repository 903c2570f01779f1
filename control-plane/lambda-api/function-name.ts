/**
 * Lambda's `FunctionName` path member (compat.md §2.1): a name, `name:qualifier`, a full ARN or a
 * partial one (`000000000000:function:name`), each optionally qualified. Pure.
 */
import { FUNCTION_NAME } from '../functions/lambda-contract.js';
import { LambdaApiError } from './lambda-errors.js';

export interface FunctionRef {
  readonly name: string;
  /** `$LATEST`, a version number or an alias name; absent when neither path nor query gave one. */
  readonly qualifier?: string;
}

const QUALIFIER = /^[a-zA-Z0-9$_-]{1,128}$/;
const FULL_ARN = /^arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:function:([^:]+)(?::([^:]+))?$/;
const PARTIAL_ARN = /^\d{12}:function:([^:]+)(?::([^:]+))?$/;
const NAME_PATTERN = '(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?';

/** Parses the path member and reconciles it with the `Qualifier` query member. */
export function parseFunctionRef(raw: string, queryQualifier: string | undefined, member = 'functionName'): FunctionRef {
  if (raw.length < 1 || raw.length > 170) throw invalidName(raw, member, 'Member must have length less than or equal to 170');
  const arn = FULL_ARN.exec(raw) ?? PARTIAL_ARN.exec(raw);
  let name: string;
  let fromName: string | undefined;
  if (arn) {
    name = arn[1] as string;
    fromName = arn[2];
  } else {
    const parts = raw.split(':');
    if (parts.length > 2) throw invalidName(raw, member, `Member must satisfy regular expression pattern: ${NAME_PATTERN}`);
    name = parts[0] as string;
    fromName = parts[1];
  }
  if (!FUNCTION_NAME.test(name)) throw invalidName(raw, member, `Member must satisfy regular expression pattern: ${NAME_PATTERN}`);
  if (fromName !== undefined && !QUALIFIER.test(fromName)) throw invalidName(raw, member, `Member must satisfy regular expression pattern: ${NAME_PATTERN}`);
  if (queryQualifier !== undefined && queryQualifier !== '' && !QUALIFIER.test(queryQualifier)) {
    throw new LambdaApiError('ValidationException', `1 validation error detected: Value '${queryQualifier}' at 'qualifier' failed to satisfy constraint: Member must satisfy regular expression pattern: (|[a-zA-Z0-9$_-]+)`);
  }
  const q = queryQualifier === '' ? undefined : queryQualifier;
  if (fromName !== undefined && q !== undefined && fromName !== q) {
    throw new LambdaApiError('InvalidParameterValueException', 'The derived qualifier from the function name does not match the specified qualifier.');
  }
  const qualifier = fromName ?? q;
  return qualifier === undefined ? { name } : { name, qualifier };
}

function invalidName(raw: string, member: string, constraint: string): LambdaApiError {
  return new LambdaApiError('ValidationException', `1 validation error detected: Value '${raw.slice(0, 256)}' at '${member}' failed to satisfy constraint: ${constraint}`);
}
