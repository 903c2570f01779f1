/**
 * Reading gantry.yml: YAML parsed strictly (duplicate keys are errors), checked against the JSON
 * Schema, defaults filled in. Every problem is one line naming the file and the path of the bad
 * field, e.g. `gantry.yml: functions.hello.memoryMb: must be <= 10240`.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import { parseDocument } from 'yaml';
import { usageError } from '../exit-codes.js';
import { MANIFEST_SCHEMA } from './manifest-schema.js';

export interface ScheduleDecl {
  readonly expression: string;
  readonly timezone: string;
  readonly input?: unknown;
}

export interface FunctionDecl {
  /** Absolute: resolved against the file's folder. */
  readonly code: string;
  readonly runtime: string;
  readonly handler: string;
  readonly memoryMb: number;
  readonly timeoutMs: number;
  readonly environment: Record<string, string>;
  readonly schedules: readonly ScheduleDecl[];
}

export interface RouteDecl {
  readonly routeKey: string;
  readonly function: string;
  readonly payloadFormatVersion: '2.0' | '1.0';
  readonly apiKeyRequired: boolean;
}

export interface ApiDecl {
  readonly protocol: 'http' | 'websocket';
  readonly routes: readonly RouteDecl[];
}

export interface Manifest {
  readonly functions: Readonly<Record<string, FunctionDecl>>;
  readonly apis: Readonly<Record<string, ApiDecl>>;
}

const ajv = new Ajv2020({ allErrors: false, useDefaults: true, strict: true });
const validate = ajv.compile(MANIFEST_SCHEMA);

export async function loadManifest(file: string): Promise<Manifest> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw usageError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseManifest(text, file, path.dirname(path.resolve(file)));
}

export function parseManifest(text: string, label: string, baseDir: string): Manifest {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  const problem = doc.errors[0];
  if (problem !== undefined) {
    const at = problem.linePos?.[0];
    throw usageError(`${label}${at === undefined ? '' : `:${at.line}:${at.col}`}: ${(problem.message.split('\n')[0] ?? 'not valid YAML').replace(/ at line \d+, column \d+:?$/, '')}`);
  }
  const data = (doc.toJS() as unknown) ?? {};
  if (!validate(data)) throw usageError(`${label}: ${describe(validate.errors?.[0])}`);
  const m = data as { functions?: Record<string, Omit<FunctionDecl, 'code'> & { code: string }>; apis?: Record<string, ApiDecl> };
  const functions: Record<string, FunctionDecl> = {};
  for (const [name, f] of Object.entries(m.functions ?? {})) functions[name] = { ...f, code: path.resolve(baseDir, f.code) };
  const apis = m.apis ?? {};
  for (const [name, api] of Object.entries(apis)) {
    const seen = new Set<string>();
    api.routes.forEach((r, i) => {
      if (seen.has(r.routeKey)) throw usageError(`${label}: apis.${name}.routes[${i}].routeKey: "${r.routeKey}" appears twice`);
      seen.add(r.routeKey);
    });
  }
  return { functions, apis };
}

/** Ajv's error as `path: message`, the path in dotted form (`functions.hello.memoryMb`). */
function describe(e: ErrorObject | undefined): string {
  if (e === undefined) return 'not valid';
  const parts = e.instancePath.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  let where = parts.reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc === '' ? p : `${acc}.${p}`), '');
  let message = e.message ?? 'is not valid';
  const params = e.params as Record<string, unknown>;
  if (e.keyword === 'additionalProperties') {
    where = where === '' ? String(params.additionalProperty) : `${where}.${String(params.additionalProperty)}`;
    message = 'is not a known field';
  } else if (e.keyword === 'required') {
    where = where === '' ? String(params.missingProperty) : `${where}.${String(params.missingProperty)}`;
    message = 'is required';
  } else if (e.keyword === 'propertyNames' || (e.keyword === 'pattern' && e.propertyName !== undefined)) {
    where = where === '' ? String(e.propertyName ?? params.propertyName) : `${where}.${String(e.propertyName ?? params.propertyName)}`;
    message = 'is not a valid name';
  } else if (e.keyword === 'enum') {
    message = `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
  }
  return `${where === '' ? '(top level)' : where}: ${message}`;
}
