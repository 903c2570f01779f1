/**
 * Request-body validation for the admin API: zod schemas matching api.md, and one translation of
 * zod's issues into a single clear ValidationError sentence.
 */
import { z } from 'zod';
import { GantryError } from '../../common/errors.js';
import { ALIAS_NAME, FUNCTION_NAME, RESERVED_ENV_KEYS } from '../functions/lambda-contract.js';
import { routeSelectionProblem } from '../../common/route-selection.js';
import { isHostName, isToken, originProblem } from '../../common/http-grammar.js';
import { depthProblem, MAX_FIELD_DEPTH, nestsAtMost, tooDeepField } from './json-limits.js';

const ENV_KEY = /^[a-zA-Z]([a-zA-Z0-9_])+$/;
/** Lambda's limit on the whole environment map (compat.md §1.4). */
const MAX_ENV_BYTES = 4096;

const environment = z
  // A NUL cannot be passed in a process environment; Docker would refuse the container later.
  .record(z.string(), z.string().refine((v) => !v.includes('\0'), 'values must not contain NUL characters'))
  .superRefine((env, ctx) => {
    let bytes = 0;
    for (const [k, v] of Object.entries(env)) {
      if (!ENV_KEY.test(k)) ctx.addIssue({ code: z.ZodIssueCode.custom, message: `variable name "${k}" must match [a-zA-Z][a-zA-Z0-9_]+` });
      if (RESERVED_ENV_KEYS.has(k)) ctx.addIssue({ code: z.ZodIssueCode.custom, message: `variable "${k}" is reserved by the runtime` });
      bytes += Buffer.byteLength(k) + Buffer.byteLength(v);
    }
    if (bytes > MAX_ENV_BYTES) ctx.addIssue({ code: z.ZodIssueCode.custom, message: `variables total ${bytes} bytes; the limit is ${MAX_ENV_BYTES}` });
  });

const handler = z.string().min(1).max(128).regex(/^[^\s]+$/, 'must not contain whitespace');
const memoryMb = z.number().int().min(64).max(10240);
const timeoutMs = z.number().int().min(1).max(900_000);
const network = z.enum(['default', 'none']);
const concurrency = z.number().int().min(0).max(100_000).nullable();

const description = z.string().max(256);

export const createFunctionSchema = z.object({
  name: z.string().regex(FUNCTION_NAME, 'must be 1-64 characters of A-Z, a-z, 0-9, _ and -'),
  description: description.optional(),
  runtime: z.string().min(1),
  handler,
  memoryMb: memoryMb.default(128),
  timeoutMs: timeoutMs.default(3000),
  environment: environment.default({}),
  network: network.default('default'),
  code: z.object({ zipBase64: z.string().min(1) }),
});

export const patchFunctionSchema = z.object({
  description: description.optional(),
  runtime: z.string().min(1).optional(),
  handler: handler.optional(),
  memoryMb: memoryMb.optional(),
  timeoutMs: timeoutMs.optional(),
  environment: environment.optional(),
  network: network.optional(),
  reservedConcurrency: concurrency.optional(),
  provisionedConcurrency: concurrency.optional(),
});

const versionNumber = z.string().regex(/^[1-9][0-9]{0,9}$/, 'must be a published version number');

export const publishVersionSchema = z.object({
  description: description.optional(),
  codeSha256: z.string().min(1).max(64).optional(),
  revisionId: z.string().uuid().optional(),
}).strict();

const additionalVersionWeights = z
  .record(versionNumber, z.number().min(0).max(1))
  .refine((w) => Object.keys(w).length <= 1, 'may name at most one version');
const routingConfig = z.object({ additionalVersionWeights }).strict();

export const createAliasSchema = z.object({
  name: z.string().regex(ALIAS_NAME, 'must be 1-128 characters of A-Z, a-z, 0-9, - and _, not only digits'),
  functionVersion: z.union([z.literal('$LATEST'), versionNumber]),
  description: description.optional(),
  routingConfig: routingConfig.nullable().optional(),
}).strict();

export const patchAliasSchema = z.object({
  functionVersion: z.union([z.literal('$LATEST'), versionNumber]).optional(),
  description: description.optional(),
  routingConfig: routingConfig.nullable().optional(),
  revisionId: z.string().uuid().optional(),
}).strict();

export const API_NAME = /^[a-z0-9-]{1,64}$/;
export const RESERVED_API_NAMES: ReadonlySet<string> = new Set(['healthz', 'readyz', 'metrics']);

// Every CORS value is written into a response header by the gateway (RFC 9110 grammar). The
// list sizes keep each joined header line short enough for any client.
const MAX_CORS_ITEMS = 100;
const headerName = z.string().min(1).max(256).refine(isToken, 'must be a header name (an RFC 9110 token, no spaces or control characters)');
const corsOrigin = z
  .string()
  .min(1)
  .max(2048)
  .superRefine((o, ctx) => {
    const problem = originProblem(o);
    if (problem !== undefined) ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem });
  });

const cors = z.object({
  allowOrigins: z.array(corsOrigin).max(MAX_CORS_ITEMS).optional(),
  allowMethods: z.array(z.string().min(1).max(64).refine(isToken, 'must be a method (an RFC 9110 token) or "*"')).max(MAX_CORS_ITEMS).optional(),
  allowHeaders: z.array(headerName).max(MAX_CORS_ITEMS).optional(),
  exposeHeaders: z.array(headerName).max(MAX_CORS_ITEMS).optional(),
  maxAge: z.number().int().min(0).max(86400).optional(),
  allowCredentials: z.boolean().optional(),
})
  // Browsers refuse credentials with a wildcard origin; API Gateway refuses the configuration.
  .refine((c) => !(c.allowCredentials === true && c.allowOrigins?.includes('*') === true), 'allowCredentials cannot be combined with allowOrigins "*"');
const hostName = z.string().refine(isHostName, 'must be a host name (labels of 1-63 letters, digits and inner hyphens, at most 253 characters)');

const apiOptions = {
  cors: cors.nullable().optional(),
  hosts: z.array(hostName).max(20).optional(),
  routeSelectionExpression: z
    .string()
    .min(1)
    .max(256)
    .superRefine((e, ctx) => {
      const problem = routeSelectionProblem(e);
      if (problem !== undefined) ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem });
    })
    .optional(),
};

export const createApiSchema = z.object({
  name: z
    .string()
    .regex(API_NAME, 'must be 1-64 characters of a-z, 0-9 and -')
    .refine((n) => !RESERVED_API_NAMES.has(n), 'is reserved'),
  protocol: z.enum(['http', 'websocket']).default('http'),
  ...apiOptions,
});

export const patchApiSchema = z.object(apiOptions);

/**
 * Free-form JSON that is stored as it is (a schedule's `input`): at most `MAX_FIELD_DEPTH` levels
 * and `maxBytes` of JSON. Depth is checked first, so serialising to measure the size is safe.
 */
export function boundedJson(maxBytes: number) {
  return z.unknown().superRefine((v, ctx) => {
    if (v === undefined) return;
    if (!nestsAtMost(v, MAX_FIELD_DEPTH)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: depthProblem(MAX_FIELD_DEPTH) });
      return;
    }
    const bytes = Buffer.byteLength(JSON.stringify(v));
    if (bytes > maxBytes) ctx.addIssue({ code: z.ZodIssueCode.custom, message: `must be at most ${maxBytes} bytes of JSON (it is ${bytes})` });
  });
}

/** Parses `body` or throws one ValidationError naming every problem. */
export function parseBody<S extends z.ZodTypeAny>(schema: S, body: unknown): z.output<S> {
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new GantryError('ValidationError', 'The request body must be a JSON object.', { component: 'admin-api' });
  }
  // Before the schema sees it: zod's own walk and error paths are not meant for hostile depth.
  const deep = tooDeepField(body as Record<string, unknown>, MAX_FIELD_DEPTH);
  if (deep !== undefined) {
    throw new GantryError('ValidationError', `Invalid request: ${deep}: ${depthProblem(MAX_FIELD_DEPTH)}.`, { component: 'admin-api' });
  }
  const r = schema.safeParse(body);
  if (r.success) return r.data as z.output<S>;
  const problems = r.error.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : 'body'}: ${i.message}`);
  throw new GantryError('ValidationError', `Invalid request: ${problems.join('; ')}.`, { component: 'admin-api' });
}
