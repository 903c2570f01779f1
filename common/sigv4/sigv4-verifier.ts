/**
 * SigV4 verification (compat.md §2.5) for both processes: the control plane's Lambda API and the
 * gateway's `@connections`. The header is parsed and its scope checked here; the signing math is
 * the AWS SDK's own signer (`@smithy/signature-v4`): the received request is signed again with
 * the candidate secret at the request's own date, and the two signatures are compared in
 * constant time. So the canonical request is exactly the one the SDK built, including its
 * second escaping of the path (`%3A` in an ARN is signed as `%253A`).
 *
 * Credentials come from `CredentialSource`s, which must answer from memory: verification never
 * reads a database.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { decodeComponent } from '../safe-decode.js';
import { MESSAGES, SigV4Failure } from './sigv4-failure.js';

export { SigV4Failure, sigv4ErrorResponse, type SigV4FailureCode, type SigV4ErrorResponse } from './sigv4-failure.js';

/** Who signed: the key, the tenant it belongs to, and `access-key` or `function:<name>`. */
export interface SigV4Identity {
  readonly accessKeyId: string;
  readonly tenant: string;
  readonly principal: string;
}

export type CredentialLookup =
  | { readonly kind: 'found'; readonly secretAccessKey: string; readonly tenant: string; readonly principal: string }
  /** The source owns this kind of key but does not know this one (revoked, or never issued). */
  | { readonly kind: 'unknown' }
  | { readonly kind: 'expired' };

export interface CredentialSource {
  /** Undefined when the key is not this source's kind (the next source is asked). */
  lookup(accessKeyId: string, sessionToken: string | undefined, nowMs: number): CredentialLookup | undefined;
}

/** What the verifier needs of a request: the target as sent (raw path and query) and the body. */
export interface SignedRequest {
  readonly method: string;
  /** The path as it arrived, percent-escapes intact, without the query. */
  readonly path: string;
  /** The raw query string without `?` ('' for none). */
  readonly query: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Uint8Array | undefined;
}

export interface SigV4VerifierOptions {
  /** GANTRY_REGION: the only region a credential scope may name. */
  readonly region: string;
  /** AWS allows 5 minutes either way. */
  readonly maxSkewMs?: number;
  readonly nowMs?: () => number;
}

const ALGORITHM = 'AWS4-HMAC-SHA256';
const AMZ_DATE = /^(\d{8})T\d{6}Z$/;
const HEX64 = /^[0-9a-f]{64}$/;
const DEFAULT_SKEW_MS = 5 * 60_000;

interface ParsedAuthorization {
  readonly accessKeyId: string;
  readonly date: string;
  readonly region: string;
  readonly service: string;
  readonly signedHeaders: readonly string[];
  readonly signature: string;
}

export class SigV4Verifier {
  private readonly maxSkewMs: number;
  private readonly nowMs: () => number;

  constructor(
    private readonly sources: readonly CredentialSource[],
    private readonly opts: SigV4VerifierOptions,
  ) {
    this.maxSkewMs = opts.maxSkewMs ?? DEFAULT_SKEW_MS;
    this.nowMs = opts.nowMs ?? Date.now;
  }

  /** The signer's identity, or throws `SigV4Failure`. `service`: `lambda`, `execute-api`. */
  async verify(req: SignedRequest, service: string): Promise<SigV4Identity> {
    const auth = parseAuthorization(header(req.headers, 'authorization'));
    const amzDate = header(req.headers, 'x-amz-date');
    if (amzDate === undefined) {
      throw new SigV4Failure('IncompleteSignatureException', "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
    }
    const dateMatch = AMZ_DATE.exec(amzDate);
    if (!dateMatch) throw new SigV4Failure('IncompleteSignatureException', `X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd'T'HHmmss'Z'", not '${amzDate}'.`);
    for (const required of ['host', 'x-amz-date']) {
      if (!auth.signedHeaders.includes(required)) {
        throw new SigV4Failure('InvalidSignatureException', `'${required}' must be a 'SignedHeader' in the AWS Authorization.`);
      }
    }
    if (auth.date !== dateMatch[1]) {
      throw new SigV4Failure(
        'InvalidSignatureException',
        `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${auth.date}' != '${dateMatch[1]}', from '${amzDate}'.`,
      );
    }
    if (auth.region !== this.opts.region) throw new SigV4Failure('InvalidSignatureException', `Credential should be scoped to a valid region, not '${auth.region}'.`);
    if (auth.service !== service) throw new SigV4Failure('InvalidSignatureException', `Credential should be scoped to correct service: '${service}'.`);
    const signedAt = parseAmzDate(amzDate);
    this.checkSkew(signedAt, amzDate);
    const sessionToken = header(req.headers, 'x-amz-security-token');
    const creds = this.lookup(auth.accessKeyId, sessionToken);
    const contentHash = header(req.headers, 'x-amz-content-sha256');
    if (contentHash !== undefined && auth.signedHeaders.includes('x-amz-content-sha256')) {
      // The header is what is signed: the body must be the one it names, or a replay could carry another.
      const actual = createHash('sha256').update(req.body ?? new Uint8Array()).digest('hex');
      if (!HEX64.test(contentHash) || !safeEqual(contentHash, actual)) {
        throw new SigV4Failure('InvalidSignatureException', "The provided 'x-amz-content-sha256' header does not match what was computed.");
      }
    }
    const expected = await signatureFor(req, auth, signedAt, { accessKeyId: auth.accessKeyId, secretAccessKey: creds.secretAccessKey, sessionToken });
    if (!safeEqual(auth.signature, expected)) throw new SigV4Failure('InvalidSignatureException', MESSAGES.mismatch);
    return { accessKeyId: auth.accessKeyId, tenant: creds.tenant, principal: creds.principal };
  }

  private checkSkew(signedAt: Date, amzDate: string): void {
    const now = this.nowMs();
    const minutes = Math.round(this.maxSkewMs / 60_000);
    if (signedAt.getTime() < now - this.maxSkewMs) {
      throw new SigV4Failure('InvalidSignatureException', `Signature expired: ${amzDate} is now earlier than ${amzFormat(now - this.maxSkewMs)} (${amzFormat(now)} - ${minutes} min.)`);
    }
    if (signedAt.getTime() > now + this.maxSkewMs) {
      throw new SigV4Failure('InvalidSignatureException', `Signature not yet current: ${amzDate} is still later than ${amzFormat(now + this.maxSkewMs)} (${amzFormat(now)} + ${minutes} min.)`);
    }
  }

  private lookup(accessKeyId: string, sessionToken: string | undefined): Extract<CredentialLookup, { kind: 'found' }> {
    const now = this.nowMs();
    for (const source of this.sources) {
      const found = source.lookup(accessKeyId, sessionToken, now);
      if (found === undefined) continue;
      if (found.kind === 'found') return found;
      if (found.kind === 'expired') throw new SigV4Failure('ExpiredTokenException', MESSAGES.expiredToken);
      break;
    }
    throw new SigV4Failure('UnrecognizedClientException', MESSAGES.unknownKey);
  }
}

/** `AWS4-HMAC-SHA256 Credential=…/date/region/service/aws4_request, SignedHeaders=a;b, Signature=hex`. */
export function parseAuthorization(value: string | undefined): ParsedAuthorization {
  if (value === undefined || value.trim() === '') throw new SigV4Failure('MissingAuthenticationTokenException', MESSAGES.missing);
  const text = value.trim();
  if (!text.startsWith(`${ALGORITHM} `)) {
    throw new SigV4Failure('IncompleteSignatureException', `Authorization header requires '${ALGORITHM}' as its algorithm.`);
  }
  const params = new Map<string, string>();
  for (const part of text.slice(ALGORITHM.length).split(',')) {
    const p = part.trim();
    const eq = p.indexOf('=');
    if (eq > 0) params.set(p.slice(0, eq), p.slice(eq + 1));
  }
  for (const name of ['Credential', 'SignedHeaders', 'Signature']) {
    if (!params.has(name)) {
      throw new SigV4Failure('IncompleteSignatureException', `Authorization header requires '${name}' parameter. Authorization=${text.slice(0, 200)}`);
    }
  }
  const scope = (params.get('Credential') as string).split('/');
  if (scope.length !== 5 || scope[4] !== 'aws4_request' || scope.slice(0, 4).some((s) => s === '') || !/^\d{8}$/.test(scope[1] as string)) {
    throw new SigV4Failure('IncompleteSignatureException', "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/aws4_request.");
  }
  const signedHeaders = (params.get('SignedHeaders') as string).split(';');
  if (signedHeaders.some((h) => !/^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(h))) {
    throw new SigV4Failure('IncompleteSignatureException', 'SignedHeaders must be lower-case header names separated by semicolons.');
  }
  const signature = params.get('Signature') as string;
  if (!/^[0-9a-f]{64}$/.test(signature)) throw new SigV4Failure('IncompleteSignatureException', 'Signature must be 64 lower-case hexadecimal characters.');
  const [accessKeyId, date, region, service] = scope as [string, string, string, string];
  return { accessKeyId, date, region, service, signedHeaders, signature };
}

async function signatureFor(
  req: SignedRequest,
  auth: ParsedAuthorization,
  signedAt: Date,
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string | undefined },
): Promise<string> {
  const headers: Record<string, string> = {};
  for (const name of auth.signedHeaders) {
    const v = header(req.headers, name);
    if (v !== undefined) headers[name] = v;
  }
  const request = new HttpRequest({
    method: req.method,
    protocol: 'https:',
    hostname: headers.host ?? '',
    path: req.path,
    query: parseQuery(req.query),
    headers,
    body: req.body,
  });
  const signer = new SignatureV4({
    credentials: credentials.sessionToken === undefined ? { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey } : { ...credentials, sessionToken: credentials.sessionToken },
    region: auth.region,
    service: auth.service,
    sha256: Hash.bind(null, 'sha256'),
    uriEscapePath: true,
    // The client chose whether to sign x-amz-content-sha256; adding it would change what is signed.
    applyChecksum: false,
  });
  const signed = await signer.sign(request, { signingDate: signedAt, signableHeaders: new Set(auth.signedHeaders) });
  const m = /Signature=([0-9a-f]{64})$/.exec(String(signed.headers.authorization ?? ''));
  return m?.[1] ?? '';
}

/** Decoded query parameters as the signer wants them (repeated keys as arrays). */
function parseQuery(raw: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  if (raw === '') return out;
  for (const pair of raw.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = decodeComponent(eq < 0 ? pair : pair.slice(0, eq));
    const value = decodeComponent(eq < 0 ? '' : pair.slice(eq + 1));
    // An escape that does not decode was not what any signer signed.
    if (key === undefined || value === undefined) throw new SigV4Failure('InvalidSignatureException', MESSAGES.mismatch);
    const had = out[key];
    out[key] = had === undefined ? value : Array.isArray(had) ? [...had, value] : [had, value];
  }
  return out;
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

function parseAmzDate(v: string): Date {
  return new Date(`${v.slice(0, 4)}-${v.slice(4, 6)}-${v.slice(6, 8)}T${v.slice(9, 11)}:${v.slice(11, 13)}:${v.slice(13, 15)}Z`);
}

function amzFormat(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
