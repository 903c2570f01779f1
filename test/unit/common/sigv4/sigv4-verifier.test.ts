import http from 'node:http';
import type { AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import { ApiGatewayManagementApiClient, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { FunctionCredentialIssuer } from '../../../../common/sigv4/function-credentials.js';
import {
  SigV4Failure,
  SigV4Verifier,
  sigv4ErrorResponse,
  type CredentialLookup,
  type CredentialSource,
  type SignedRequest,
} from '../../../../common/sigv4/sigv4-verifier.js';

const KEY = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };
const REGION = 'us-east-1';

/** An in-memory key table, as the control plane's cache is. */
class KeyTable implements CredentialSource {
  readonly keys = new Map([[KEY.accessKeyId, { secret: KEY.secretAccessKey, tenant: 'default' }]]);
  lookup(id: string): CredentialLookup | undefined {
    if (!id.startsWith('AKIA')) return undefined;
    const k = this.keys.get(id);
    return k ? { kind: 'found', secretAccessKey: k.secret, tenant: k.tenant, principal: 'access-key' } : { kind: 'unknown' };
  }
}

/** Runs `send` against a local server and returns the request exactly as it arrived. */
async function capture(send: (endpoint: string) => Promise<unknown>): Promise<SignedRequest> {
  let got: SignedRequest | undefined;
  const srv = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = req.url ?? '/';
      const q = url.indexOf('?');
      got = { method: req.method ?? 'GET', path: q < 0 ? url : url.slice(0, q), query: q < 0 ? '' : url.slice(q + 1), headers: req.headers, body: Buffer.concat(chunks) };
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  try {
    await send(`http://127.0.0.1:${(srv.address() as AddressInfo).port}`);
  } finally {
    await new Promise((r) => srv.close(r));
  }
  if (!got) throw new Error('no request arrived');
  return got;
}

function lambdaClient(endpoint: string, creds: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } = KEY, region = REGION) {
  return new LambdaClient({ endpoint, region, credentials: creds, maxAttempts: 1 });
}

const ARN = 'arn:aws:lambda:us-east-1:000000000000:function:pets:live';

async function sdkInvoke(creds = KEY, region = REGION, payload = '{"a":1}'): Promise<SignedRequest> {
  return capture((endpoint) => lambdaClient(endpoint, creds, region).send(new InvokeCommand({ FunctionName: ARN, Payload: Buffer.from(payload), Qualifier: 'live' })));
}

/** A request signed by the SDK's signer directly, at `date`. */
async function signedAt(date: Date, opts: { service?: string; secret?: string; body?: string } = {}): Promise<SignedRequest> {
  const body = opts.body ?? '{}';
  const signer = new SignatureV4({ credentials: { ...KEY, secretAccessKey: opts.secret ?? KEY.secretAccessKey }, region: REGION, service: opts.service ?? 'lambda', sha256: Hash.bind(null, 'sha256') });
  const req = new HttpRequest({ method: 'GET', protocol: 'http:', hostname: '127.0.0.1', port: 9000, path: '/2015-03-31/functions', query: { MaxItems: '5', Marker: 'a b' }, headers: { host: '127.0.0.1:9000', 'content-type': 'application/json' }, body });
  const s = await signer.sign(req, { signingDate: date });
  return { method: s.method, path: s.path, query: 'MaxItems=5&Marker=a%20b', headers: lowerCase(s.headers), body: Buffer.from(body) };
}

function lowerCase(h: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
}

async function failure(t: Test, p: Promise<unknown>, code: string, message?: RegExp): Promise<SigV4Failure> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  t.ok(e instanceof SigV4Failure, `refused with ${code}`);
  const f = e as SigV4Failure;
  t.equal(f.code, code);
  if (message) t.match(f.message, message);
  return f;
}

t.test('a real client-lambda Invoke with an ARN in the path verifies (the path is signed escaped twice)', async (t) => {
  const req = await sdkInvoke();
  t.match(req.path, /arn%3Aaws%3Alambda/, 'the SDK sent the ARN escaped once');
  t.ok(req.headers['x-amz-content-sha256'], 'the SDK signs the body hash');
  const v = new SigV4Verifier([new KeyTable()], { region: REGION });
  t.same(await v.verify(req, 'lambda'), { accessKeyId: KEY.accessKeyId, tenant: 'default', principal: 'access-key' });
});

t.test('a real ApiGatewayManagementApi call verifies with service execute-api', async (t) => {
  const req = await capture((endpoint) =>
    new ApiGatewayManagementApiClient({ endpoint: `${endpoint}/chat`, region: REGION, credentials: KEY, maxAttempts: 1 }).send(
      new PostToConnectionCommand({ ConnectionId: 'R0oXAdfD0kwCH6w=', Data: Buffer.from('hi') }),
    ),
  );
  t.equal(req.path, '/chat/@connections/R0oXAdfD0kwCH6w%3D');
  const v = new SigV4Verifier([new KeyTable()], { region: REGION });
  t.equal((await v.verify(req, 'execute-api')).accessKeyId, KEY.accessKeyId);
  await failure(t, v.verify(req, 'lambda'), 'InvalidSignatureException', /correct service: 'lambda'/);
});

t.test('a query string is signed decoded and sorted as the signer does', async (t) => {
  const v = new SigV4Verifier([new KeyTable()], { region: REGION });
  const req = await signedAt(new Date());
  t.equal((await v.verify(req, 'lambda')).tenant, 'default');
  await failure(t, v.verify({ ...req, query: 'MaxItems=6&Marker=a%20b' }, 'lambda'), 'InvalidSignatureException', /does not match/);
});

t.test('negative cases', async (t) => {
  const table = new KeyTable();
  const v = new SigV4Verifier([table], { region: REGION });
  await t.test('wrong secret', async (t) => {
    await failure(t, v.verify(await signedAt(new Date(), { secret: 'x'.repeat(40) }), 'lambda'), 'InvalidSignatureException', /does not match/);
  });
  await t.test('wrong region', async (t) => {
    await failure(t, v.verify(await sdkInvoke(KEY, 'eu-west-1'), 'lambda'), 'InvalidSignatureException', /valid region, not 'eu-west-1'/);
  });
  await t.test('wrong service', async (t) => {
    await failure(t, v.verify(await signedAt(new Date(), { service: 'execute-api' }), 'lambda'), 'InvalidSignatureException', /correct service/);
  });
  await t.test('clock skew of 6 minutes either way; 4 minutes pass', async (t) => {
    const now = Date.now();
    await failure(t, v.verify(await signedAt(new Date(now - 6 * 60_000)), 'lambda'), 'InvalidSignatureException', /^Signature expired: \d{8}T\d{6}Z is now earlier than/);
    await failure(t, v.verify(await signedAt(new Date(now + 6 * 60_000)), 'lambda'), 'InvalidSignatureException', /^Signature not yet current/);
    t.ok(await v.verify(await signedAt(new Date(now - 4 * 60_000)), 'lambda'));
    t.ok(await v.verify(await signedAt(new Date(now + 4 * 60_000)), 'lambda'));
  });
  await t.test('a replay with a changed body fails, with and without x-amz-content-sha256', async (t) => {
    const sdk = await sdkInvoke();
    await failure(t, v.verify({ ...sdk, body: Buffer.from('{"a":2}') }, 'lambda'), 'InvalidSignatureException', /x-amz-content-sha256/);
    const changedHash = { ...sdk, body: Buffer.from('{"a":2}'), headers: { ...sdk.headers, 'x-amz-content-sha256': '0'.repeat(64) } };
    await failure(t, v.verify(changedHash, 'lambda'), 'InvalidSignatureException');
    const signer = new SignatureV4({ credentials: KEY, region: REGION, service: 'lambda', sha256: Hash.bind(null, 'sha256'), applyChecksum: false });
    const s = await signer.sign(new HttpRequest({ method: 'POST', hostname: 'h', path: '/x', headers: { host: 'h' }, body: 'one' }));
    const req: SignedRequest = { method: 'POST', path: '/x', query: '', headers: lowerCase(s.headers), body: Buffer.from('one') };
    t.notOk(req.headers['x-amz-content-sha256'], 'this signer did not send the hash header');
    t.ok(await v.verify(req, 'lambda'));
    await failure(t, v.verify({ ...req, body: Buffer.from('two') }, 'lambda'), 'InvalidSignatureException', /does not match/);
  });
  await t.test('unknown key, then a revoked one', async (t) => {
    await failure(t, v.verify(await sdkInvoke({ accessKeyId: 'AKIAUNKNOWNUNKNOWN00', secretAccessKey: KEY.secretAccessKey }), 'lambda'), 'UnrecognizedClientException', /security token included in the request is invalid/);
    const req = await sdkInvoke();
    t.ok(await v.verify(req, 'lambda'));
    table.keys.delete(KEY.accessKeyId);
    await failure(t, v.verify(req, 'lambda'), 'UnrecognizedClientException');
    table.keys.set(KEY.accessKeyId, { secret: KEY.secretAccessKey, tenant: 'default' });
  });
  await t.test('malformed or missing headers', async (t) => {
    const good = await signedAt(new Date());
    const without = (name: string) => Object.fromEntries(Object.entries(good.headers).filter(([k]) => k !== name));
    const f = await failure(t, v.verify({ ...good, headers: without('authorization') }, 'lambda'), 'MissingAuthenticationTokenException', /Missing Authentication Token/);
    t.equal(f.status, 403);
    await failure(t, v.verify({ ...good, headers: { ...good.headers, authorization: 'Bearer abc' } }, 'lambda'), 'IncompleteSignatureException');
    const auth = String(good.headers.authorization);
    await failure(t, v.verify({ ...good, headers: { ...good.headers, authorization: auth.replace(/, Signature=.*$/, '') } }, 'lambda'), 'IncompleteSignatureException', /'Signature'/);
    await failure(t, v.verify({ ...good, headers: { ...good.headers, authorization: auth.replace(/Credential=[^,]*/, 'Credential=AKIA/20250101') } }, 'lambda'), 'IncompleteSignatureException', /5 slash-delimited/);
    await failure(t, v.verify({ ...good, headers: without('x-amz-date') }, 'lambda'), 'IncompleteSignatureException', /X-Amz-Date/);
    await failure(t, v.verify({ ...good, headers: { ...good.headers, 'x-amz-date': '2025-01-05' } }, 'lambda'), 'IncompleteSignatureException');
    await failure(t, v.verify({ ...good, headers: { ...good.headers, authorization: auth.replace('SignedHeaders=', 'SignedHeaders=Bad Header;') } }, 'lambda'), 'IncompleteSignatureException');
    const otherDay = auth.replace(/\/\d{8}\//, '/20200101/');
    await failure(t, v.verify({ ...good, headers: { ...good.headers, authorization: otherDay } }, 'lambda'), 'InvalidSignatureException', /Date in Credential scope does not match/);
    await failure(t, v.verify({ ...good, query: 'Marker=%zz' }, 'lambda'), 'InvalidSignatureException');
  });
});

t.test('function credentials: verified statelessly, scoped to their tenant and function, refused once expired or altered', async (t) => {
  let now = Date.now();
  const issuer = new FunctionCredentialIssuer('i'.repeat(40));
  const creds = issuer.issue({ tenant: 'acme', functionName: 'pets', expiresAtMs: now + 60_000 });
  t.match(creds.accessKeyId, /^ASIA[A-Z2-7]{16}$/);
  t.equal(creds.secretAccessKey.length, 40);
  const v = new SigV4Verifier([new KeyTable(), issuer], { region: REGION, nowMs: () => now });
  const req = await sdkInvoke(creds);
  t.equal(req.headers['x-amz-security-token'], creds.sessionToken);
  t.same(await v.verify(req, 'lambda'), { accessKeyId: creds.accessKeyId, tenant: 'acme', principal: 'function:pets' });
  await t.test('another internal token knows none of them', async (t) => {
    const other = new SigV4Verifier([new FunctionCredentialIssuer('o'.repeat(40))], { region: REGION, nowMs: () => now });
    await failure(t, other.verify(req, 'lambda'), 'UnrecognizedClientException');
  });
  await t.test('an altered token, or another token for the same key id, is unknown', async (t) => {
    const [, payload] = creds.sessionToken.split('.');
    const forged = Buffer.from(JSON.stringify({ t: 'other', f: 'pets', e: now + 60_000 })).toString('base64url');
    await failure(t, v.verify({ ...req, headers: { ...req.headers, 'x-amz-security-token': creds.sessionToken.replace(payload as string, forged) } }, 'lambda'), 'UnrecognizedClientException');
    const second = issuer.issue({ tenant: 'acme', functionName: 'pets', expiresAtMs: now + 120_000 });
    await failure(t, v.verify({ ...req, headers: { ...req.headers, 'x-amz-security-token': second.sessionToken } }, 'lambda'), 'UnrecognizedClientException');
    const { 'x-amz-security-token': _dropped, ...noToken } = req.headers;
    await failure(t, v.verify({ ...req, headers: noToken }, 'lambda'), 'UnrecognizedClientException');
  });
  await t.test('expired', async (t) => {
    const late = await capture((endpoint) => lambdaClient(endpoint, creds).send(new InvokeCommand({ FunctionName: 'pets' })));
    now += 61_000;
    await failure(t, v.verify(late, 'lambda'), 'ExpiredTokenException', /expired/);
  });
});

t.test('the error answer carries AWS headers, the Date header and the body shape asked for', async (t) => {
  const f = new SigV4Failure('InvalidSignatureException', 'Signature expired: x');
  const r = sigv4ErrorResponse(f, 'req-1', 'lambda', Date.UTC(2025, 0, 5, 10, 15, 30));
  t.equal(r.status, 403);
  t.equal(r.headers['x-amzn-ErrorType'], 'InvalidSignatureException');
  t.equal(r.headers['x-amzn-RequestId'], 'req-1');
  t.equal(r.headers.date, 'Sun, 05 Jan 2025 10:15:30 GMT');
  t.same(JSON.parse(r.body), { Type: 'User', message: 'Signature expired: x' });
  t.same(JSON.parse(sigv4ErrorResponse(f, 'r', 'message').body), { message: 'Signature expired: x' });
});
