/**
 * Admin-API schemas for what the gateway enforces per route and per client (api.md, route
 * options, usage plans and keys): route authorizers (JWT, function), throttles, usage plans and
 * API keys. Stored values are the parsed output, defaults filled in, so a gateway never has to
 * guess a default.
 */
import { createPublicKey } from 'node:crypto';
import { z } from 'zod';
import { isVisibleAscii } from '../../common/http-grammar.js';
import { FUNCTION_NAME, QUALIFIED_FUNCTION_NAME } from '../functions/lambda-contract.js';
import { API_NAME } from './validation.js';

/**
 * `$request.header.X`, `$request.querystring.x`, `$context.x`, `$stageVariables.x` (compat.md §8.2).
 * A header name is an RFC 9110 token; a query name is visible ASCII other than `&`, `=` and `#`.
 */
export const IDENTITY_SOURCE = /^\$(request\.header\.[!#$%&'*+\-.^_`|~0-9A-Za-z]+|request\.querystring\.[\x21-\x22\x24\x25\x27-\x3c\x3e-\x7e]+|context\.[A-Za-z][A-Za-z0-9.]*|stageVariables\.[A-Za-z0-9_]+)$/;

const identitySource = z.string().max(512).regex(IDENTITY_SOURCE, 'must be $request.header.<name>, $request.querystring.<name>, $context.<variable> or $stageVariables.<name>');

function isRsaPublicKeyPem(pem: string): boolean {
  try {
    return createPublicKey(pem).asymmetricKeyType?.startsWith('rsa') === true;
  } catch {
    return false;
  }
}

/** Claim values and URLs: a URL parser silently drops CR, LF and tabs, so the raw text is checked. */
const visible = (max: number) => z.string().min(1).max(max).refine(isVisibleAscii, 'must be visible ASCII characters (no spaces or control characters)');

const httpUrl = z
  .string()
  .max(2048)
  .refine(isVisibleAscii, 'must be visible ASCII characters (no spaces or control characters)')
  .refine((u) => URL.canParse(u), 'must be a URL')
  .refine((u) => /^https?:\/\//i.test(u), 'must be an http(s) URL');

// API Gateway's limits: up to 50 audiences and 10 scopes per route (compat.md §8.1).
const jwtAuthorizer = z
  .object({
    type: z.literal('jwt'),
    issuer: visible(2048),
    // Compared with claims only, so any text but control characters.
    audience: z.array(z.string().min(1).max(512).refine((a) => !/[\x00-\x1f\x7f]/.test(a), 'must not contain control characters')).min(1).max(50),
    jwksUri: httpUrl.optional(),
    // An RSA key of 16384 bits is about 3 KB of PEM.
    publicKeys: z.array(z.string().max(16_384).refine(isRsaPublicKeyPem, 'must be an RSA public key in PEM form')).min(1).max(20).optional(),
    // A scope claim is space-separated scope-tokens (RFC 6749 §3.3).
    scopes: z.array(visible(256)).max(10).optional(),
    identitySource: z.array(identitySource).length(1).default(['$request.header.Authorization']),
  })
  .strict()
  .refine((a) => !(a.jwksUri !== undefined && a.publicKeys !== undefined), 'give jwksUri or publicKeys, not both')
  // Without either, keys are found by OIDC discovery from the issuer, which must then be a URL.
  .refine((a) => a.jwksUri !== undefined || a.publicKeys !== undefined || /^https?:\/\//i.test(a.issuer), 'without jwksUri or publicKeys the issuer must be an http(s) URL (OIDC discovery)');

const functionAuthorizer = z
  .object({
    type: z.literal('function'),
    function: z.string().regex(FUNCTION_NAME, 'must be a function name'),
    payloadFormatVersion: z.enum(['1.0', '2.0']).default('2.0'),
    enableSimpleResponses: z.boolean().default(false),
    identitySource: z.array(identitySource).max(10).default(['$request.header.Authorization']),
    // The console's default; 0 turns caching off, 3600 is API Gateway's maximum.
    resultTtlSeconds: z.number().int().min(0).max(3600).default(300),
  })
  .strict()
  .refine((a) => !a.enableSimpleResponses || a.payloadFormatVersion === '2.0', 'enableSimpleResponses needs payloadFormatVersion "2.0"')
  .refine((a) => a.resultTtlSeconds === 0 || a.identitySource.length > 0, 'caching (resultTtlSeconds > 0) needs at least one identitySource');

export const routeAuthorizerSchema = z.union([jwtAuthorizer, functionAuthorizer]);

const throttle = z.object({ rateLimit: z.number().min(0).max(1_000_000), burstLimit: z.number().int().min(0).max(1_000_000) }).strict();

export const createRouteSchema = z.object({
  routeKey: z.string().min(1).max(512),
  // `fn`, `fn:alias`, `fn:3` or `fn:$LATEST`: the gateway passes the qualifier on with every call.
  function: z.string().regex(QUALIFIED_FUNCTION_NAME, 'must be a function name, optionally with :version or :alias'),
  payloadFormatVersion: z.enum(['1.0', '2.0']).default('2.0'),
  apiKeyRequired: z.boolean().optional(),
  authorizer: routeAuthorizerSchema.optional(),
  throttle: throttle.optional(),
  routeResponseSelectionExpression: z.literal('$default').optional(),
});

export const createUsagePlanSchema = z.object({
  name: z.string().min(1).max(128),
  apis: z.array(z.string().regex(API_NAME, 'must be an API name')).max(100).default([]),
  throttle: throttle.optional(),
  quota: z
    .object({
      limit: z.number().int().min(0).max(2_000_000_000),
      period: z.enum(['DAY', 'WEEK', 'MONTH']),
      // Requests subtracted from the limit in the plan's first period (compat.md §7).
      offset: z.number().int().min(0).max(2_000_000_000).optional(),
    })
    .strict()
    .refine((q) => (q.offset ?? 0) <= q.limit, { message: 'offset must not exceed limit', path: ['offset'] })
    .optional(),
});

export const createApiKeySchema = z.object({
  name: z.string().min(1).max(128),
  usagePlanId: z.string().min(1).max(64),
  // compat.md §7: 20–128 alphanumerics; generated when absent.
  value: z.string().regex(/^[A-Za-z0-9]{20,128}$/, 'must be 20-128 alphanumeric characters').optional(),
});

export const DATE = /^\d{4}-\d{2}-\d{2}$/;
