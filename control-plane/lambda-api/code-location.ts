/**
 * GetFunction's `Code.Location`: a presigned, expiring download URL for a function's zip, as
 * AWS's S3 URL is (valid 10 minutes). The signature is an HMAC of the archive's hash and the
 * expiry, keyed by a secret of the control plane, so the URL needs no other credentials and
 * cannot be bent to another archive or a later time.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const CODE_PATH_PREFIX = '/gantry-lambda-code/';
const VALID_SECONDS = 600;
const SHA256_HEX = /^[0-9a-f]{64}$/;

export class CodeLocation {
  constructor(
    /** The control plane's secret (read when needed: it is known only after start). */
    private readonly secret: () => string,
    private readonly nowMs: () => number = Date.now,
  ) {}

  url(baseUrl: string, sha256: string): string {
    const expires = Math.floor(this.nowMs() / 1000) + VALID_SECONDS;
    return `${baseUrl}${CODE_PATH_PREFIX}${sha256}.zip?Expires=${expires}&Signature=${this.sign(sha256, expires)}`;
  }

  /** The archive a request for a code URL may download, or undefined (expired, forged, malformed). */
  verify(path: string, query: URLSearchParams): string | undefined {
    if (!path.startsWith(CODE_PATH_PREFIX) || !path.endsWith('.zip')) return undefined;
    const sha = path.slice(CODE_PATH_PREFIX.length, -'.zip'.length);
    const expires = Number(query.get('Expires'));
    const given = query.get('Signature') ?? '';
    if (!SHA256_HEX.test(sha) || !Number.isSafeInteger(expires) || expires * 1000 < this.nowMs()) return undefined;
    const want = Buffer.from(this.sign(sha, expires));
    const got = Buffer.from(given);
    return got.length === want.length && timingSafeEqual(got, want) ? sha : undefined;
  }

  private sign(sha256: string, expires: number): string {
    return createHmac('sha256', `lambda-code-location:${this.secret()}`).update(`${sha256}\n${expires}`).digest('hex');
  }
}
