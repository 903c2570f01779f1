// The Lambda API as Debian's AWS CLI v2 drives it (`aws --endpoint-url … lambda …`), unmodified:
// create, the CLI's waiters, invoke with the log tail, update code and configuration (a stale
// RevisionId refused), publish, alias, list, delete.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { startStack } from '../support/stack.js';
import { nodeZip } from '../support/zip.js';

const run = promisify(execFile);
// Debian's v2 by its path: another `aws` (v1) may come first on PATH.
const AWS = '/usr/bin/aws';

const stack = await startStack(t);
// Real SigV4: a key made over the admin API.
const key = (await (await stack.admin('POST', '/v1/access-keys', { description: 'lambda api e2e' })).json()) as { accessKeyId: string; secretAccessKey: string };
const dir = await mkdtemp(path.join(tmpdir(), 'gantry-awscli-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
const credentials = { AWS_ACCESS_KEY_ID: key.accessKeyId, AWS_SECRET_ACCESS_KEY: key.secretAccessKey };

interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function aws(...args: string[]): Promise<CliResult> {
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: dir,
    // Nothing from the machine's own AWS configuration.
    AWS_CONFIG_FILE: path.join(dir, 'config'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(dir, 'credentials'),
    AWS_REGION: 'us-east-1',
    AWS_PAGER: '',
    AWS_EC2_METADATA_DISABLED: 'true',
    ...credentials,
  };
  try {
    const r = await run(AWS, ['--endpoint-url', stack.controlPlaneUrl, '--output', 'json', '--cli-binary-format', 'raw-in-base64-out', 'lambda', ...args], { env, timeout: 90_000, cwd: dir });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof x.code === 'number' ? x.code : -1, stdout: x.stdout ?? '', stderr: x.stderr ?? '' };
  }
}

const json = (r: CliResult) => JSON.parse(r.stdout) as Record<string, any>;

t.before(async () => {
  const v = await run(AWS, ['--version'], { timeout: 30_000 });
  if (!/^aws-cli\/2/.test(v.stdout + v.stderr)) throw new Error(`${AWS} is not the AWS CLI v2: ${v.stdout}`);
});

await t.test('the core path with the AWS CLI', async (t) => {
  const zip1 = path.join(dir, 'v1.zip');
  const zip2 = path.join(dir, 'v2.zip');
  await writeFile(zip1, nodeZip(`exports.handler = async (e) => { console.log('cli-log-line'); return { v: 1, e, version: process.env.AWS_LAMBDA_FUNCTION_VERSION }; };`));
  await writeFile(zip2, nodeZip(`exports.handler = async (e) => ({ v: 2, e, version: process.env.AWS_LAMBDA_FUNCTION_VERSION });`));

  const created = await aws('create-function', '--function-name', 'cli-fn', '--runtime', 'nodejs20.x', '--handler', 'index.handler',
    '--role', 'arn:aws:iam::000000000000:role/cli', '--zip-file', `fileb://${zip1}`, '--timeout', '10', '--environment', 'Variables={STAGE=cli}');
  t.equal(created.code, 0, created.stderr);
  t.equal(json(created).FunctionName, 'cli-fn');
  t.equal(json(created).State, 'Active');

  const waited = await aws('wait', 'function-active-v2', '--function-name', 'cli-fn');
  t.equal(waited.code, 0, `wait function-active-v2: ${waited.stderr}`);

  const out = path.join(dir, 'out.json');
  const invoked = await aws('invoke', '--function-name', 'cli-fn', '--payload', '{"hello":"cli"}', '--log-type', 'Tail', out);
  t.equal(invoked.code, 0, invoked.stderr);
  const meta = json(invoked);
  t.equal(meta.StatusCode, 200);
  t.equal(meta.ExecutedVersion, '$LATEST');
  const log = Buffer.from(meta.LogResult as string, 'base64').toString('utf8');
  t.match(log, /START RequestId: \S+ Version: \$LATEST/);
  t.match(log, /cli-log-line/);
  t.match(log, /REPORT RequestId: \S+\tDuration: /);
  t.same(JSON.parse(await readFile(out, 'utf8')), { v: 1, e: { hello: 'cli' }, version: '$LATEST' });

  const asyncInvoke = await aws('invoke', '--function-name', 'cli-fn', '--invocation-type', 'Event', '--payload', '{}', out);
  t.equal(json(asyncInvoke).StatusCode, 202, asyncInvoke.stderr);

  const before = json(await aws('get-function-configuration', '--function-name', 'cli-fn'));
  const updated = await aws('update-function-code', '--function-name', 'cli-fn', '--zip-file', `fileb://${zip2}`);
  t.equal(updated.code, 0, updated.stderr);
  const waitedUpdate = await aws('wait', 'function-updated-v2', '--function-name', 'cli-fn');
  t.equal(waitedUpdate.code, 0, `wait function-updated-v2: ${waitedUpdate.stderr}`);

  const stale = await aws('update-function-configuration', '--function-name', 'cli-fn', '--timeout', '5', '--revision-id', before.RevisionId as string);
  t.not(stale.code, 0);
  t.match(stale.stderr, /PreconditionFailedException/);
  const fresh = await aws('update-function-configuration', '--function-name', 'cli-fn', '--timeout', '5', '--revision-id', json(updated).RevisionId as string);
  t.equal(fresh.code, 0, fresh.stderr);
  t.equal(json(fresh).Timeout, 5);

  const published = await aws('publish-version', '--function-name', 'cli-fn', '--description', 'first');
  t.equal(published.code, 0, published.stderr);
  t.equal(json(published).Version, '1');
  t.equal(json(published).FunctionArn, 'arn:aws:lambda:us-east-1:000000000000:function:cli-fn:1');
  const alias = await aws('create-alias', '--function-name', 'cli-fn', '--name', 'live', '--function-version', '1');
  t.equal(alias.code, 0, alias.stderr);
  t.equal(json(alias).AliasArn, 'arn:aws:lambda:us-east-1:000000000000:function:cli-fn:live');
  const versions = json(await aws('list-versions-by-function', '--function-name', 'cli-fn'));
  t.same((versions.Versions as { Version: string }[]).map((v) => v.Version), ['$LATEST', '1']);

  const listed = json(await aws('list-functions'));
  t.ok((listed.Functions as { FunctionName: string }[]).some((f) => f.FunctionName === 'cli-fn'));

  const missing = await aws('get-function', '--function-name', 'cli-nope');
  t.not(missing.code, 0);
  t.match(missing.stderr, /ResourceNotFoundException/);

  const deleted = await aws('delete-function', '--function-name', 'cli-fn');
  t.equal(deleted.code, 0, deleted.stderr);
  t.match((await aws('get-function', '--function-name', 'cli-fn')).stderr, /ResourceNotFoundException/);
});
