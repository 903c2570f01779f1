/**
 * Reading restJson1 request members as AWS's model types them: a member of the wrong JSON type is
 * an InvalidRequestContentException, a value outside the model's constraints a ValidationException
 * in AWS's sentence ("1 validation error detected: Value '…' at 'memorySize' failed to satisfy
 * constraint: …"), collected so one answer names every problem. Pure.
 */
import { LambdaApiError } from './lambda-errors.js';

export type Body = Readonly<Record<string, unknown>>;

export function asBody(v: unknown): Body {
  if (v === undefined || v === null || (typeof v === 'object' && !Array.isArray(v) && Object.keys(v as object).length === 0)) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new LambdaApiError('InvalidRequestContentException', 'Could not parse request body into json: the body must be a JSON object.');
  return v as Body;
}

function typeError(member: string, want: string): LambdaApiError {
  return new LambdaApiError('InvalidRequestContentException', `Could not parse request body into json: ${member} must be ${want}.`);
}

export function str(b: Body, member: string): string | undefined {
  const v = b[member];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw typeError(member, 'a string');
  return v;
}

export function int(b: Body, member: string): number | undefined {
  const v = b[member];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw typeError(member, 'an integer');
  return v;
}

export function bool(b: Body, member: string): boolean | undefined {
  const v = b[member];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw typeError(member, 'a boolean');
  return v;
}

export function obj(b: Body, member: string): Body | undefined {
  const v = b[member];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw typeError(member, 'an object');
  return v as Body;
}

export function stringMap(b: Body, member: string): Record<string, string> | undefined {
  const m = obj(b, member);
  if (m === undefined) return undefined;
  for (const [k, v] of Object.entries(m)) if (typeof v !== 'string') throw typeError(`${member}.${k}`, 'a string');
  return m as Record<string, string>;
}

export function list(b: Body, member: string): readonly unknown[] | undefined {
  const v = b[member];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw typeError(member, 'a list');
  return v;
}

/** Model constraints of one request, reported together. */
export class Constraints {
  private readonly problems: string[] = [];

  range(value: number | undefined, member: string, min: number, max: number): this {
    if (value === undefined) return this;
    if (value < min) this.problems.push(`Value '${value}' at '${member}' failed to satisfy constraint: Member must have value greater than or equal to ${min}`);
    else if (value > max) this.problems.push(`Value '${value}' at '${member}' failed to satisfy constraint: Member must have value less than or equal to ${max}`);
    return this;
  }

  length(value: string | undefined, member: string, min: number, max: number): this {
    if (value === undefined) return this;
    if (value.length < min) this.problems.push(`Value '${value}' at '${member}' failed to satisfy constraint: Member must have length greater than or equal to ${min}`);
    else if (value.length > max) this.problems.push(`Value '${value.slice(0, 64)}…' at '${member}' failed to satisfy constraint: Member must have length less than or equal to ${max}`);
    return this;
  }

  pattern(value: string | undefined, member: string, re: RegExp, shown: string): this {
    if (value !== undefined && !re.test(value)) this.problems.push(`Value '${value.slice(0, 256)}' at '${member}' failed to satisfy constraint: Member must satisfy regular expression pattern: ${shown}`);
    return this;
  }

  required(value: unknown, member: string): this {
    if (value === undefined) this.problems.push(`Value null at '${member}' failed to satisfy constraint: Member must not be null`);
    return this;
  }

  check(): void {
    const n = this.problems.length;
    if (n > 0) throw new LambdaApiError('ValidationException', `${n} validation error${n === 1 ? '' : 's'} detected: ${this.problems.join('; ')}`);
  }
}
