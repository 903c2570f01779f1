/**
 * Which version a qualified call runs: `$LATEST`, a published number, or an alias, whose weights
 * are applied here, per call, in memory, from what the function cache already holds.
 */
import { GantryError } from '../../common/errors.js';
import { QUALIFIER } from './lambda-contract.js';
import { LATEST, type FunctionRecord, type InvocableFunction, type ResolvedFunction } from './function-types.js';

export function resolveQualifier(f: InvocableFunction, qualifier: string | undefined, random: () => number = Math.random): ResolvedFunction {
  if (qualifier === undefined || qualifier === LATEST) return { record: f, executedVersion: LATEST };
  if (!QUALIFIER.test(qualifier)) {
    throw new GantryError('ValidationError', `Qualifier "${qualifier}" is not $LATEST, a version number or an alias name.`, { component: 'invoke-api' });
  }
  if (/^[0-9]+$/.test(qualifier)) return { record: versionOf(f, qualifier), executedVersion: qualifier };
  const alias = f.aliases?.get(qualifier);
  if (alias === undefined) throw notFound(f.name, qualifier);
  const chosen = alias.additionalVersion !== null && random() < alias.additionalWeight ? alias.additionalVersion : alias.functionVersion;
  return { record: versionOf(f, chosen), executedVersion: chosen, alias: alias.name };
}

/** Qualifiers given twice (`name:q` and `?qualifier=`) must agree. */
export function combineQualifiers(fromName: string | undefined, fromQuery: string | undefined): string | undefined {
  if (fromName !== undefined && fromQuery !== undefined && fromName !== fromQuery) {
    throw new GantryError('ValidationError', `The qualifier in the function name ("${fromName}") and the qualifier parameter ("${fromQuery}") differ.`, {
      component: 'invoke-api',
    });
  }
  return fromName ?? fromQuery;
}

function versionOf(f: InvocableFunction, label: string): FunctionRecord {
  if (label === LATEST) return f;
  const v = f.published?.get(Number(label));
  if (v === undefined) throw notFound(f.name, label);
  return v;
}

function notFound(name: string, qualifier: string): GantryError {
  return new GantryError('ResourceNotFound', `Function not found: ${name}:${qualifier}`, { component: 'invoke-api' });
}
