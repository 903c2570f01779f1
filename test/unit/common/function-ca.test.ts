// The function CA: created once (a second start and a racing start keep the first CA), the key
// private and the public directory readable, and certificates that chain to it for the name asked.
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { apiIdOfExecuteApiHost, executeApiHost } from '../../../common/execute-api-host.js';
import { CONTAINER_TRUST_ENVIRONMENT, LeafIssuer, ensureFunctionCa, functionCaPaths, readFunctionCa } from '../../../common/function-ca.js';

async function tempDir(t: Test): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'gantry-ca-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return path.join(dir, 'function-ca');
}

t.test('created once: later and racing calls agree on the first CA', async (t) => {
  const dir = await tempDir(t);
  t.equal(await readFunctionCa(dir), undefined, 'none before the first start');
  const [a, b] = await Promise.all([ensureFunctionCa(dir), ensureFunctionCa(dir)]);
  t.equal(a.certPem, b.certPem, 'two racing starts, one CA');
  t.equal((await ensureFunctionCa(dir)).keyPem, a.keyPem, 'a later start keeps it');
  const p = functionCaPaths(dir);
  t.equal((await stat(p.keyFile)).mode & 0o777, 0o600, 'the key is private');
  t.equal((await stat(p.certFile)).mode & 0o777, 0o644, 'the certificate is readable by functions');
  t.equal(await readFile(p.certFile, 'utf8'), a.certPem);
  t.ok((await readFile(p.bundleFile, 'utf8')).endsWith(a.certPem), 'the bundle ends with the CA, after any host roots');
  const ca = new X509Certificate(a.certPem);
  t.ok(ca.ca, 'a CA certificate');
});

t.test('a leaf for a name chains to the CA and names exactly that name', async (t) => {
  const ca = await ensureFunctionCa(await tempDir(t));
  const issuer = new LeafIssuer(ca);
  const name = executeApiHost('w1x2y3', 'eu-west-1');
  const { certPem, notAfterMs } = issuer.issue(name);
  const leaf = new X509Certificate(certPem);
  const caCert = new X509Certificate(ca.certPem);
  t.ok(leaf.verify(caCert.publicKey), 'signed by the CA');
  t.ok(leaf.checkIssued(caCert));
  t.equal(leaf.subjectAltName, `DNS:${name}`);
  t.equal(leaf.checkHost(name), name);
  t.equal(leaf.checkHost('other.execute-api.eu-west-1.amazonaws.com'), undefined);
  t.ok(notAfterMs > Date.now() + 6 * 86_400_000, 'valid for days');
  t.match(issuer.keyPem, /BEGIN PRIVATE KEY/);
});

t.test('a corrupt CA file is an error, not a new CA', async (t) => {
  const dir = await tempDir(t);
  await ensureFunctionCa(dir);
  const { writeFile } = await import('node:fs/promises');
  await writeFile(functionCaPaths(dir).keyFile, 'nothing');
  await t.rejects(readFunctionCa(dir), /holds no key and certificate/);
});

t.test('execute-api names', async (t) => {
  t.equal(executeApiHost('AbC1', 'us-east-1'), 'abc1.execute-api.us-east-1.amazonaws.com');
  t.equal(apiIdOfExecuteApiHost('abc1.execute-api.us-east-1.amazonaws.com'), 'abc1');
  t.equal(apiIdOfExecuteApiHost('ABC1.Execute-Api.us-east-1.amazonaws.com:443'), 'abc1');
  t.equal(apiIdOfExecuteApiHost('abc1.execute-api.us-east-1.amazonaws.com:8443'), undefined);
  t.equal(apiIdOfExecuteApiHost('chat.example.test'), undefined);
  t.equal(apiIdOfExecuteApiHost('a.b.execute-api.us-east-1.amazonaws.com'), undefined);
});

t.test('functions trust the CA through the variables their SDKs read', async (t) => {
  t.same(Object.keys(CONTAINER_TRUST_ENVIRONMENT).sort(), ['AWS_CA_BUNDLE', 'NODE_EXTRA_CA_CERTS', 'REQUESTS_CA_BUNDLE']);
});
