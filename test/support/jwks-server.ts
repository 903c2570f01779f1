/**
 * An identity provider for tests, on 127.0.0.1 only: RSA key pairs, a JWKS endpoint, an OIDC
 * discovery document, and a signer. Counts JWKS fetches so caching can be asserted.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose';

export interface TestKey {
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicJwk: Record<string, unknown>;
  readonly publicPem: string;
}

export async function makeKey(kid: string, alg = 'RS256'): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' }, publicPem: await exportSPKI(publicKey) };
}

export interface JwksServer {
  readonly issuer: string;
  readonly jwksUri: string;
  /** Keys currently published. */
  keys: TestKey[];
  /** Extra bytes padded into the JWKS document (to test the size limit). */
  padBytes: number;
  /** Delay before answering, in ms (to test the fetch timeout). */
  delayMs: number;
  jwksFetches: number;
  sign(key: TestKey, claims: JWTPayload, opts?: { expiresInS?: number; alg?: string }): Promise<string>;
  close(): Promise<void>;
}

export async function startJwksServer(keys: TestKey[]): Promise<JwksServer> {
  // The handler reads the returned object, so tests change what it serves by assigning fields.
  let self: JwksServer | undefined;
  const server = http.createServer((req, res) => {
    const state = self as JwksServer;
    const answer = () => {
      if (req.url === '/.well-known/openid-configuration') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ issuer: state.issuer, jwks_uri: state.jwksUri }));
      } else if (req.url === '/jwks.json') {
        state.jwksFetches += 1;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ keys: state.keys.map((k) => k.publicJwk), ...(state.padBytes > 0 ? { pad: 'x'.repeat(state.padBytes) } : {}) }));
      } else {
        res.writeHead(404).end();
      }
    };
    if (state.delayMs > 0) setTimeout(answer, state.delayMs);
    else answer();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  self = {
    issuer: origin,
    jwksUri: `${origin}/jwks.json`,
    keys,
    padBytes: 0,
    delayMs: 0,
    jwksFetches: 0,
    sign: (key, claims, opts = {}) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: opts.alg ?? (key.publicJwk['alg'] as string), kid: key.kid, typ: 'JWT' })
        .setIssuer(origin)
        .setIssuedAt()
        .setExpirationTime(`${opts.expiresInS ?? 300}s`)
        .sign(key.privateKey),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  return self;
}
