// Published versions and aliases on real Postgres, through the store and the service: numbering
// that never reuses a number, publishing an unchanged $LATEST, CodeSha256 and RevisionId
// preconditions, delete rules, what the function cache loads for qualified calls, and which
// environments each change retires.
import { createHash, randomBytes } from 'node:crypto';
import t, { type Test } from 'tap';
import { createPool, dropDatabase, ensureDatabase } from '../../common/db.js';
import { GantryError } from '../../common/errors.js';
import { createLogger } from '../../common/logger.js';
import type { CodeCache } from '../../control-plane/code/code-cache.js';
import { FunctionCache } from '../../control-plane/functions/function-cache.js';
import { FunctionService, type RetireScope } from '../../control-plane/functions/function-service.js';
import { FunctionStore, type CodeArchive } from '../../control-plane/functions/function-store.js';
import { DEFAULT_TENANT, type FunctionId } from '../../control-plane/functions/function-types.js';
import { resolveQualifier } from '../../control-plane/functions/qualifier.js';
import { VersionStore } from '../../control-plane/functions/version-store.js';
import { defaultMigrationsDir, migrate } from '../../control-plane/postgres/migrator.js';
import type { RuntimeCatalog } from '../../control-plane/runtimes/runtime-catalog.js';
import type { Scheduler } from '../../control-plane/scheduler/scheduler.js';
import { requireServices, TEST_DATABASE_BASE } from '../support/services.js';
import { withDatabase } from '../support/stack.js';
import { nodeZip } from '../support/zip.js';

await requireServices(t, { docker: false });
const url = withDatabase(TEST_DATABASE_BASE, `gantry_test_versions_${randomBytes(4).toString('hex')}`);
await ensureDatabase(url);
const pool = createPool({ url, max: 4, statementTimeoutMs: 30_000, applicationName: 'test' });
await migrate(pool, defaultMigrationsDir(import.meta.url));
t.teardown(async () => {
  await pool.end();
  await dropDatabase(url);
});

const store = new FunctionStore(pool);
const versions = new VersionStore(pool);
const cache = new FunctionCache(async (tenant, name) => versions.getInvocable(tenant, name, await store.get(tenant, name)));
const retired: [FunctionId, RetireScope][] = [];
const service = new FunctionService({
  store,
  versions,
  cache,
  // Neither is reached by the paths under test (create and code updates go through the store here).
  codeCache: {} as CodeCache,
  catalog: {} as RuntimeCatalog,
  scheduler: { retire: (id: FunctionId, scope: RetireScope) => retired.push([id, scope]) } as unknown as Scheduler,
  publishChange: async () => undefined,
  logger: createLogger({ level: 'silent', name: 'versions-it' }),
});
const tenant = DEFAULT_TENANT;

function archive(source: string): CodeArchive {
  const zip = nodeZip(source);
  return { sha256: createHash('sha256').update(zip).digest('hex'), zip, unzippedBytes: source.length };
}

const settings = { runtime: 'nodejs20', handler: 'index.handler', memoryMb: 128, timeoutMs: 3000, environment: {}, network: 'default' as const };

async function rejects(t: Test, p: Promise<unknown>, type: string, message?: RegExp): Promise<void> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  t.ok(e instanceof GantryError, `rejects with a GantryError (${type})`);
  t.equal((e as GantryError).type, type);
  if (message) t.match((e as GantryError).message, message);
}

const a = archive('exports.handler = async () => "a";');
const b = archive('exports.handler = async () => "b";');

await t.test('numbers from 1, unchanged $LATEST returns the newest, CodeSha256 in hex or base64 must match', async (t) => {
  const f = await store.create({ tenantId: tenant, name: 'fn', description: 'd0', ...settings, code: a });
  t.equal(f.description, 'd0');
  await rejects(t, service.publishVersion(tenant, 'fn', { codeSha256: b.sha256 }), 'PreconditionFailed', /CodeSha256/);
  await rejects(t, service.publishVersion(tenant, 'fn', { codeSha256: 'not-a-sha' }), 'ValidationError');
  const v1 = await service.publishVersion(tenant, 'fn', { codeSha256: Buffer.from(a.sha256, 'hex').toString('base64'), description: 'one' });
  t.equal(v1.version, 1);
  t.equal(v1.description, 'one');
  t.equal(v1.codeSha256, a.sha256);
  t.not(v1.versionId, f.versionId, 'a published version is its own row, so its environments have their own key');
  t.equal((await service.publishVersion(tenant, 'fn', { codeSha256: a.sha256 })).version, 1, 'unchanged: version 1 again');
  await store.replaceCode(tenant, 'fn', b);
  const v2 = await service.publishVersion(tenant, 'fn');
  t.equal(v2.version, 2);
  t.equal(v2.description, 'd0');
  t.same((await service.listVersions(tenant, 'fn')).versions.map((v) => v.version), [1, 2]);
  t.same(retired, [], 'publishing retires nothing');
});

await t.test('the revision changes with every code or configuration change and guards updates', async (t) => {
  const before = await store.require(tenant, 'fn');
  t.match(before.revisionId, /^[0-9a-f-]{36}$/);
  await rejects(t, store.patch(tenant, 'fn', { memoryMb: 256 }, { expectedRevisionId: '00000000-0000-4000-8000-000000000000' }), 'PreconditionFailed');
  const patched = await store.patch(tenant, 'fn', { description: 'd1' }, { expectedRevisionId: before.revisionId as string });
  t.equal(patched.description, 'd1');
  t.equal(patched.versionId, before.versionId, 'a description is not a new version row');
  t.not(patched.revisionId, before.revisionId);
  await rejects(t, store.replaceCode(tenant, 'fn', a, { expectedRevisionId: before.revisionId as string }), 'PreconditionFailed');
  await rejects(t, service.publishVersion(tenant, 'fn', { expectedRevisionId: before.revisionId as string }), 'PreconditionFailed');
});

await t.test('aliases: published targets only, one weighted extra, resolved per call in memory', async (t) => {
  await rejects(t, service.createAlias(tenant, 'fn', { name: 'x', functionVersion: '9' }), 'ResourceNotFound');
  await rejects(t, service.createAlias(tenant, 'fn', { name: 'x', functionVersion: '$LATEST', additionalVersionWeights: { '1': 0.5 } }), 'ValidationError');
  await rejects(t, service.createAlias(tenant, 'fn', { name: 'x', functionVersion: '1', additionalVersionWeights: { '1': 0.5 } }), 'ValidationError');
  const live = await service.createAlias(tenant, 'fn', { name: 'live', functionVersion: '1', additionalVersionWeights: { '2': 0.25 } });
  t.same(live.additionalVersionWeights, { '2': 0.25 });
  await rejects(t, service.createAlias(tenant, 'fn', { name: 'live', functionVersion: '2' }), 'ResourceConflict');
  const f = await cache.get(tenant, 'fn');
  t.ok(f);
  if (f === undefined) return;
  t.match(resolveQualifier(f, 'live', () => 0.1), { executedVersion: '2', alias: 'live' });
  t.match(resolveQualifier(f, 'live', () => 0.25), { executedVersion: '1' }, 'the weight is the share below it');
  t.match(resolveQualifier(f, 'live', () => 0.9), { executedVersion: '1' });
  const one = resolveQualifier(f, '1').record;
  t.equal(one.executedVersion, '1');
  t.equal(one.codeSha256, a.sha256, 'version 1 keeps its code');
  t.equal(resolveQualifier(f, undefined).record.codeSha256, b.sha256);
  await rejects(t, Promise.resolve().then(() => resolveQualifier(f, '7')), 'ResourceNotFound');
  await rejects(t, Promise.resolve().then(() => resolveQualifier(f, 'a.b')), 'ValidationError');
  await rejects(t, service.updateAlias(tenant, 'fn', 'live', { functionVersion: '2', expectedRevisionId: '00000000-0000-4000-8000-000000000000' }), 'PreconditionFailed');
  const moved = await service.updateAlias(tenant, 'fn', 'live', { functionVersion: '2', additionalVersionWeights: null, expectedRevisionId: live.revisionId });
  t.same(moved.additionalVersionWeights, {});
  t.not(moved.revisionId, live.revisionId);
  const reloaded = await cache.get(tenant, 'fn');
  t.equal(reloaded && resolveQualifier(reloaded, 'live', () => 0).executedVersion, '2', 'the cache saw the change');
});

await t.test('delete rules, never-reused numbers, and what each change retires', async (t) => {
  const f = await store.require(tenant, 'fn');
  await rejects(t, service.deleteVersion(tenant, 'fn', 2), 'ResourceConflict', /live/);
  await service.deleteVersion(tenant, 'fn', 1);
  t.same(retired.splice(0), [[f.functionId, { version: '1' }]]);
  await rejects(t, service.getVersion(tenant, 'fn', 1), 'ResourceNotFound');
  await service.deleteAlias(tenant, 'fn', 'live');
  await service.deleteVersion(tenant, 'fn', 2);
  retired.length = 0;
  await store.replaceCode(tenant, 'fn', a);
  t.equal((await service.publishVersion(tenant, 'fn')).version, 3, 'numbers 1 and 2 are not given again');
  // The archive of a published version stays while $LATEST moves on.
  await store.replaceCode(tenant, 'fn', archive('exports.handler = async () => "c";'));
  t.same([...(await store.currentCode([a.sha256]))], [a.sha256]);
  await service.createAlias(tenant, 'fn', { name: 'keep', functionVersion: '3' });
  const counts = async () =>
    (await pool.query<{ v: number; a: number }>('SELECT (SELECT count(*) FROM published_versions)::int AS v, (SELECT count(*) FROM function_aliases)::int AS a')).rows[0];
  t.same(await counts(), { v: 1, a: 1 });
  await service.delete(tenant, 'fn');
  t.same(retired.splice(0), [[f.functionId, 'all']]);
  t.same(await counts(), { v: 0, a: 0 }, 'deleting the function deleted its versions and aliases');
});
