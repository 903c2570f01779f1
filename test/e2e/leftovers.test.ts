// What a node cleans up after itself: exited containers with its label (and only those), code
// archives and extracted directories no function uses, a deleted function's code; and a create
// that ends in 409 extracts nothing.
import { mkdir, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import Docker from 'dockerode';
import pg from 'pg';
import t, { type Test } from 'tap';
import { deployFunction, eventually, startStack } from '../support/stack.js';
import { nodeZip } from '../support/zip.js';

const stack = await startStack(t, { env: { GANTRY_CONTAINER_SWEEP_INTERVAL_MS: '200', GANTRY_CODE_GC_INTERVAL_MS: '300' } });
const admin = stack.admin;
const docker = new Docker();
const db = new pg.Pool({ connectionString: stack.databaseUrl, max: 2 });
t.teardown(() => db.end());
const codeRoot = path.join(stack.dataDir, 'code');
const exists = (p: string) => stat(p).then(() => true, () => false);
const archiveRows = async (sha: string) => Number((await db.query('SELECT count(*) AS n FROM code_archives WHERE sha256 = $1', [sha])).rows[0].n);
const gone = async (id: string) => (await docker.getContainer(id).inspect().then(() => false, (e: { statusCode?: number }) => e.statusCode === 404));

async function container(t: Test, node: string, script: string): Promise<string> {
  const c = await docker.createContainer({
    Image: 'gantry/nodejs20',
    Entrypoint: ['node', '-e', script],
    Labels: { 'gantry.managed': 'true', 'gantry.node': node },
    HostConfig: { NetworkMode: 'none', AutoRemove: false },
  });
  t.teardown(() => c.remove({ force: true }).catch(() => undefined));
  await c.start();
  return c.id;
}

await t.test('exited containers with the node label are removed; running ones and other nodes’ stay', async (t) => {
  const exited = await container(t, stack.nodeId, '');
  const running = await container(t, stack.nodeId, 'setTimeout(() => {}, 120000)');
  const other = await container(t, `${stack.nodeId}-other`, '');
  await docker.getContainer(other).wait();
  t.ok(await eventually(() => gone(exited), 15_000, 100), 'the exited container of this node is removed');
  // A later one is removed too: at least two more sweeps have passed the others by then.
  const later = await container(t, stack.nodeId, '');
  t.ok(await eventually(() => gone(later), 15_000, 100), 'a later exited container is removed as well');
  t.equal((await docker.getContainer(running).inspect()).State.Running, true, 'a running container of this node stays');
  t.notOk(await gone(other), 'an exited container of another node stays');
  await docker.getContainer(running).remove({ force: true });
});

await t.test('a create that ends in 409 extracts nothing', async (t) => {
  await deployFunction(t, stack, 'dup', nodeZip('exports.handler = async () => 1;'));
  const before = (await readdir(codeRoot)).sort();
  const again = await admin('POST', '/v1/functions', { name: 'dup', runtime: 'nodejs20', handler: 'index.handler', code: { zipBase64: nodeZip('exports.handler = async () => 2;').toString('base64') } });
  t.equal(again.status, 409);
  t.match(await again.json(), { error: { type: 'ResourceConflict', message: /dup/ } });
  t.same((await readdir(codeRoot)).sort(), before, 'no new directory, finished or temporary');
});

await t.test('deleting a function removes its archive row and, once unused, its code directory', async (t) => {
  const created = await deployFunction(t, stack, 'doomed', nodeZip('exports.handler = async () => "doomed";'));
  const sha = created.codeSha256 as string;
  t.equal((await admin('POST', '/v1/functions/doomed/invoke', {})).status, 200, 'it ran: an environment used its directory');
  t.ok(await exists(path.join(codeRoot, sha)));
  t.equal(await archiveRows(sha), 1);
  t.equal((await admin('DELETE', '/v1/functions/doomed')).status, 204);
  t.equal(await archiveRows(sha), 0, 'the archive row is gone with the function');
  t.ok(await eventually(async () => !(await exists(path.join(codeRoot, sha))), 15_000, 100), 'the directory is gone once its environment is');
  t.ok(await exists(path.join(codeRoot, ((await (await admin('GET', '/v1/functions/dup')).json()) as { codeSha256: string }).codeSha256)), 'a live function keeps its directory');
});

await t.test('archives and directories no function uses are collected; shared code stays while one user remains', async (t) => {
  const shared = nodeZip('exports.handler = async () => "shared";');
  const a = await deployFunction(t, stack, 'share-a', shared);
  await deployFunction(t, stack, 'share-b', shared);
  const sha = a.codeSha256 as string;
  t.equal((await admin('DELETE', '/v1/functions/share-a')).status, 204);
  const stray = 'f'.repeat(64);
  await db.query('INSERT INTO code_archives (sha256, zip, size_bytes, unzipped_bytes) VALUES ($1, $2, 1, 1)', [stray, Buffer.from('x')]);
  await mkdir(path.join(codeRoot, stray));
  t.ok(await eventually(async () => (await archiveRows(stray)) === 0 && !(await exists(path.join(codeRoot, stray))), 15_000, 100), 'a stray archive row and directory are collected');
  t.equal(await archiveRows(sha), 1, 'the shared archive stays: share-b uses it');
  t.ok(await exists(path.join(codeRoot, sha)), 'and so does its directory');
  t.equal((await admin('POST', '/v1/functions/share-b/invoke', {})).status, 200);
});
