/**
 * The credentials every function environment gets (issue 15 §4): AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, scoped to the function and its tenant and valid
 * for GANTRY_FUNCTION_CREDENTIALS_TTL_MS (common/sigv4/function-credentials.ts makes and checks
 * them). A container's variables cannot be renewed, so renewing means replacing: the environment
 * takes no invocation that could still be running when they expire (`reuseUntilMs`), and the
 * next call gets a fresh environment with fresh credentials. They always outlast one full
 * invocation, so a TTL shorter than a function's timeout still covers the call they were made for.
 */
import { FunctionCredentialIssuer } from '../../common/sigv4/function-credentials.js';
import type { FunctionVersion } from '../functions/function-types.js';

/** Init, queueing and clock differences between nodes on top of the function's own timeout. */
export const CREDENTIALS_SLACK_MS = 5_000;

export class FunctionCredentialsEnvironment {
  private issuer: { token: string; issuer: FunctionCredentialIssuer } | undefined;

  constructor(
    private readonly internalToken: () => string,
    private readonly ttlMs: number,
  ) {}

  variablesFor(v: FunctionVersion, issuedAtMs: number): { variables: Record<string, string>; reuseUntilMs: number } {
    const expiresAtMs = issuedAtMs + Math.max(this.ttlMs, v.timeoutMs + CREDENTIALS_SLACK_MS);
    const creds = this.issuerNow().issue({ tenant: v.tenantId, functionName: v.name, expiresAtMs });
    return {
      variables: { AWS_ACCESS_KEY_ID: creds.accessKeyId, AWS_SECRET_ACCESS_KEY: creds.secretAccessKey, AWS_SESSION_TOKEN: creds.sessionToken },
      reuseUntilMs: expiresAtMs - v.timeoutMs - CREDENTIALS_SLACK_MS,
    };
  }

  private issuerNow(): FunctionCredentialIssuer {
    const token = this.internalToken();
    if (token === '') throw new Error('function credentials before the internal token is known');
    if (this.issuer?.token !== token) this.issuer = { token, issuer: new FunctionCredentialIssuer(token) };
    return this.issuer.issuer;
  }
}
