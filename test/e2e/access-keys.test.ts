// Access keys (issue 15 §3) on two control planes sharing one database, Redis prefix and key
// file: created over the admin API, verified from memory on both nodes (a real
// @aws-sdk/client-lambda request through the SigV4 middleware), stored sealed, and revoked on
// both as soon as the DELETE returns (node A) and its message arrives (node B).
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import express from 'express';
import t from 'tap';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { createPool, dropDatabase } from '../../common/db.js';
import { createLogger } from '../../common/logger.js';
import type { SigV4Verifier } from '../../common/sigv4/sigv4-verifier.js';
import { createControlPlane, type ControlPlane } from '../../control-plane/app.js';
import { awsIdentity, createAwsAuth } from '../../control-plane/auth/aws-auth.js';
import { loadControlPlaneConfig } from '../../control-plane/config.js';
import { requireServices, TEST_DATABASE_BASE, TEST_REDIS_URL } from '../support/services.js';
import { eventually, withDatabase } from '../support/stack.js';

await requireServices(t);
const id = randomBytes(4).toString('hex');
const token = `test-admin-token-${randomBytes(16).toString('hex')}`;
const databaseUrl = withDatabase(TEST_DATABASE_BASE, `gantry_test_${id}`);
const logger = createLogger({ level: process.env.GANTRY_TEST_LOG_LEVEL ?? 'silent', name: `access-keys-${id}` });
const shared = {
  DATABASE_URL: databaseUrl,
  REDIS_URL: TEST_REDIS_URL,
  GANTRY_REDIS_PREFIX: `test:${id}:`,
  GANTRY_ADMIN_TOKEN: token,
  GANTRY_INTERNAL_TOKEN: `test-internal-token-${randomBytes(16).toString('hex')}`,
  GANTRY_BIND_HOST: '127.0.0.1',
  GANTRY_STEM_CELLS_PER_RUNTIME: '0',
  GANTRY_FUNCTION_FIREWALL: 'off',
};
const secretsDir = await mkdtemp(path.join(tmpdir(), 'gantry-test-secrets-'));
const keyFile = path.join(secretsDir, 'encryption-key');
const dirs: string[] = [secretsDir];
const running: ControlPlane[] = [];

t.teardown(async () => {
  for (const cp of running) await cp.close();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
  await dropDatabase(databaseUrl);
});

async function startNode(name: string, env: Record<string, string> = {}): Promise<{ cp: ControlPlane; url: string }> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'gantry-test-'));
  dirs.push(dataDir);
  const cp = createControlPlane(
    loadControlPlaneConfig({ ...shared, GANTRY_DATA_DIR: dataDir, GANTRY_NODE_ID: `test-${id}-${name}`, GANTRY_CONTROL_PLANE_PORT: '0', GANTRY_ENCRYPTION_KEY_FILE: keyFile, ...env }),
    logger,
    { announce: () => undefined },
  );
  running.push(cp);
  return { cp, url: `http://127.0.0.1:${await cp.start()}` };
}

/** A SigV4-protected endpoint on a node's verifier, as the Lambda API mounts the middleware. */
async function protectedEndpoint(verifier: SigV4Verifier): Promise<string> {
  const app = express();
  app.use(createAwsAuth(verifier, { service: 'lambda', maxBodyBytes: 1024 * 1024 }));
  app.use((req, res) => {
    const who = awsIdentity(res);
    res.json({ tenant: who.tenant, accessKeyId: who.accessKeyId, principal: who.principal, body: (req.body as Buffer).toString('utf8') });
  });
  const srv = http.createServer(app);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise((r) => srv.close(r)));
  return `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
}

function admin(url: string, method: string, p: string, body?: unknown): Promise<Response> {
  return fetch(url + p, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
}

async function invokeWith(endpoint: string, creds: { accessKeyId: string; secretAccessKey: string }): Promise<{ ok: true; body: Record<string, unknown> } | { ok: false; name: string; status: number | undefined }> {
  const client = new LambdaClient({ endpoint, region: 'us-east-1', credentials: creds, maxAttempts: 1 });
  try {
    const out = await client.send(new InvokeCommand({ FunctionName: 'arn:aws:lambda:us-east-1:000000000000:function:pets', Payload: Buffer.from('{"n":1}') }));
    return { ok: true, body: JSON.parse(Buffer.from(out.Payload ?? []).toString('utf8')) as Record<string, unknown> };
  } catch (e) {
    const err = e as { name: string; $metadata?: { httpStatusCode?: number } };
    return { ok: false, name: err.name, status: err.$metadata?.httpStatusCode };
  }
}

const a = await startNode('a');
const b = await startNode('b');
const endpointA = await protectedEndpoint(a.cp.sigv4());
const endpointB = await protectedEndpoint(b.cp.sigv4());

t.test('create, list, verify on both nodes, revoke everywhere', async (t) => {
  const created = await admin(a.url, 'POST', '/v1/access-keys', { description: 'ci' });
  t.equal(created.status, 201);
  const key = (await created.json()) as { accessKeyId: string; secretAccessKey: string; tenant: string; createdAt: string };
  t.match(key.accessKeyId, /^AKIA[A-Z2-7]{16}$/);
  t.equal(key.secretAccessKey.length, 40);
  t.equal(key.tenant, 'default');
  t.match(key.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

  const listed = (await (await admin(b.url, 'GET', '/v1/access-keys')).json()) as { accessKeys: Record<string, unknown>[] };
  t.same(listed.accessKeys.map((k) => k.accessKeyId), [key.accessKeyId]);
  t.notOk(JSON.stringify(listed).includes(key.secretAccessKey), 'the list has no secret');

  const onA = await invokeWith(endpointA, key);
  t.same(onA, { ok: true, body: { tenant: 'default', accessKeyId: key.accessKeyId, principal: 'access-key', body: '{"n":1}' } });
  t.ok(await eventually(async () => (await invokeWith(endpointB, key)).ok, 5_000), 'node B learns the new key from the message');

  const wrong = await invokeWith(endpointA, { ...key, secretAccessKey: 'x'.repeat(40) });
  t.same(wrong, { ok: false, name: 'InvalidSignatureException', status: 403 });
  const unknown = await invokeWith(endpointA, { accessKeyId: 'AKIAAAAAAAAAAAAAAAAA', secretAccessKey: key.secretAccessKey });
  t.same(unknown, { ok: false, name: 'UnrecognizedClientException', status: 403 });

  const del = await admin(a.url, 'DELETE', `/v1/access-keys/${key.accessKeyId}`);
  t.equal(del.status, 204);
  t.same(await invokeWith(endpointA, key), { ok: false, name: 'UnrecognizedClientException', status: 403 }, 'refused on node A when the DELETE returns');
  t.ok(await eventually(async () => !(await invokeWith(endpointB, key)).ok, 2_000), 'refused on node B once the message arrives');
  t.same(await invokeWith(endpointB, key), { ok: false, name: 'UnrecognizedClientException', status: 403 });
  t.equal((await admin(a.url, 'DELETE', `/v1/access-keys/${key.accessKeyId}`)).status, 404);
});

t.test('bad input: an unknown tenant, unknown fields', async (t) => {
  const r = await admin(a.url, 'POST', '/v1/access-keys', { tenant: 'nope' });
  t.equal(r.status, 400);
  t.match(await r.json(), { error: { type: 'ValidationError', message: /Unknown tenant: nope/ } });
  t.equal((await admin(a.url, 'POST', '/v1/access-keys', { secret: 'x' })).status, 400);
  t.equal((await fetch(`${a.url}/v1/access-keys`)).status, 401, 'the admin token is needed');
  const empty = await fetch(`${a.url}/v1/access-keys`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  t.equal(empty.status, 201, 'no body at all means the defaults');
});

t.test('the secret is sealed at rest, and a start with another key file fails clearly', async (t) => {
  const key = (await (await admin(a.url, 'POST', '/v1/access-keys', {})).json()) as { accessKeyId: string; secretAccessKey: string };
  const pool = createPool({ url: databaseUrl, max: 1, statementTimeoutMs: 10_000, applicationName: 'access-keys-test' });
  try {
    const row = (await pool.query<Record<string, unknown>>('SELECT * FROM access_keys WHERE id = $1', [key.accessKeyId])).rows[0];
    t.ok(row);
    t.notOk(JSON.stringify(row).includes(key.secretAccessKey), 'the row does not contain the secret');
    t.match(String(row?.secret_sealed), /^v1:[0-9a-f]{16}:/);
  } finally {
    await pool.end();
  }
  t.match((await readFile(keyFile, 'utf8')).trim(), /^[A-Za-z0-9+/]{43}=$/, 'the key file was generated');
  const otherKey = path.join(secretsDir, 'other-key');
  await writeFile(otherKey, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
  await t.rejects(startNode('c', { GANTRY_ENCRYPTION_KEY_FILE: otherKey }), /GANTRY_ENCRYPTION_KEY_FILE .*other-key holds none of the keys/);
  // Rotation: a new key first, the old one after it; the stored secrets still open.
  const rotated = path.join(secretsDir, 'rotated-key');
  await writeFile(rotated, `${randomBytes(32).toString('base64')}\n${(await readFile(keyFile, 'utf8')).trim()}\n`, { mode: 0o600 });
  const d = await startNode('d', { GANTRY_ENCRYPTION_KEY_FILE: rotated });
  const endpointD = await protectedEndpoint(d.cp.sigv4());
  t.ok((await invokeWith(endpointD, key)).ok, 'a node with the rotated key file verifies old keys');
});
