// Published versions and aliases end to end on the real Docker engine, Postgres and Redis:
// publishing, qualified invokes, an alias's weighted split through a route, per-version warm
// environments, delete rules, RevisionId preconditions, and a handler module the zip lacks.
import { createHash } from 'node:crypto';
import t, { type Test } from 'tap';
import { deployFunction, eventually, startStack } from '../support/stack.js';
import { nodeZip } from '../support/zip.js';

const stack = await startStack(t);

/** Says which version ran and which code it is. */
const code = (tag: string) =>
  nodeZip(`exports.handler = async () => ({ tag: ${JSON.stringify(tag)}, version: process.env.AWS_LAMBDA_FUNCTION_VERSION, stream: process.env.AWS_LAMBDA_LOG_STREAM_NAME });`);

interface Ran {
  status: number;
  executed: string | null;
  environment: string | null;
  body: { tag: string; version: string; stream: string };
  invocationId: string | null;
}

async function invoke(path: string): Promise<Ran> {
  const res = await stack.admin('POST', path, {});
  const text = await res.text();
  return {
    status: res.status,
    executed: res.headers.get('x-gantry-executed-version'),
    environment: res.headers.get('x-gantry-environment-id'),
    body: res.status === 200 ? (JSON.parse(text) as Ran['body']) : (JSON.parse(text) as never),
    invocationId: res.headers.get('x-gantry-invocation-id'),
  };
}

async function errorOf(t: Test, res: Response, status: number, type: string): Promise<string> {
  t.equal(res.status, status, `status ${status} ${type}`);
  const body = (await res.json()) as { error: { type: string; message: string } };
  t.equal(body.error.type, type);
  return body.error.message;
}

await t.test('publishing snapshots $LATEST; an unchanged $LATEST returns the same version; codeSha256 must match', async (t) => {
  const created = await deployFunction(t, stack, 'pub', code('A'), { description: 'first' });
  t.equal(created.description, 'first');
  t.match(created.revisionId, /^[0-9a-f-]{36}$/);
  const sha = created.codeSha256 as string;
  await errorOf(t, await stack.admin('POST', '/v1/functions/pub/versions', { codeSha256: 'a'.repeat(64) }), 412, 'PreconditionFailed');
  await errorOf(t, await stack.admin('POST', '/v1/functions/pub/versions', { revisionId: '00000000-0000-4000-8000-000000000000' }), 412, 'PreconditionFailed');
  const base64 = Buffer.from(sha, 'hex').toString('base64');
  const v1 = await stack.admin('POST', '/v1/functions/pub/versions', { description: 'v one', codeSha256: base64, revisionId: created.revisionId });
  t.equal(v1.status, 201);
  const one = (await v1.json()) as Record<string, unknown>;
  t.match(one, { version: '1', description: 'v one', codeSha256: sha, handler: 'index.handler', runtime: 'nodejs20' });
  const again = (await (await stack.admin('POST', '/v1/functions/pub/versions', { codeSha256: sha })).json()) as Record<string, unknown>;
  t.equal(again.version, '1', 'no change since version 1: version 1 again');
  t.equal((await stack.admin('PUT', '/v1/functions/pub/code', code('B'), { 'content-type': 'application/zip' })).status, 200);
  const two = (await (await stack.admin('POST', '/v1/functions/pub/versions', {})).json()) as Record<string, unknown>;
  t.equal(two.version, '2');
  t.equal(two.description, 'first', "a version without its own description takes the function's");
  const list = (await (await stack.admin('GET', '/v1/functions/pub/versions')).json()) as { versions: { version: string; codeSha256: string }[] };
  t.same(list.versions.map((v) => v.version), ['$LATEST', '1', '2']);
  t.equal(list.versions[1]?.codeSha256, sha);
  const got = (await (await stack.admin('GET', '/v1/functions/pub/versions/1')).json()) as Record<string, unknown>;
  t.equal(got.codeSha256, sha);
  await errorOf(t, await stack.admin('GET', '/v1/functions/pub/versions/7'), 404, 'ResourceNotFound');
  await errorOf(t, await stack.admin('GET', '/v1/functions/pub/versions/x1'), 400, 'ValidationError');
});

await t.test('a qualified invoke runs that version, says so, and its log carries the number', async (t) => {
  const v1 = await invoke('/v1/functions/pub:1/invoke');
  t.equal(v1.status, 200);
  t.equal(v1.executed, '1');
  t.match(v1.body, { tag: 'A', version: '1' });
  t.match(v1.body.stream, /^\d{4}\/\d{2}\/\d{2}\/\[1\][0-9a-f]+$/);
  const latest = await invoke('/v1/functions/pub/invoke');
  t.equal(latest.executed, '$LATEST');
  t.match(latest.body, { tag: 'B', version: '$LATEST' });
  t.match(latest.body.stream, /\/\[\$LATEST\]/);
  const byQuery = await invoke('/v1/functions/pub/invoke?qualifier=2');
  t.equal(byQuery.executed, '2');
  t.match(byQuery.body, { tag: 'B', version: '2' });
  t.equal((await invoke(`/v1/functions/${encodeURIComponent('pub:$LATEST')}/invoke`)).executed, '$LATEST');
  // The log lines of the version-1 call record the version.
  let lines: { message: string; version: string }[] = [];
  t.ok(
    await eventually(async () => {
      const res = await stack.admin('GET', `/v1/functions/pub/logs?invocationId=${v1.invocationId}`);
      lines = ((await res.json()) as { lines: typeof lines }).lines;
      return lines.some((l) => l.message.startsWith('REPORT'));
    }, 10_000),
    'the invocation log is stored',
  );
  t.ok(lines.some((l) => l.message === `START RequestId: ${v1.invocationId} Version: 1`));
  t.ok(lines.every((l) => l.version === '1'));
});

await t.test('qualifier errors: unknown version or alias 404, mismatch and bad form 400', async (t) => {
  await errorOf(t, await stack.admin('POST', '/v1/functions/pub:9/invoke', {}), 404, 'ResourceNotFound');
  await errorOf(t, await stack.admin('POST', '/v1/functions/pub:nope/invoke', {}), 404, 'ResourceNotFound');
  await errorOf(t, await stack.admin('POST', '/v1/functions/pub/invoke?qualifier=nope', {}), 404, 'ResourceNotFound');
  t.match(await errorOf(t, await stack.admin('POST', '/v1/functions/pub:1/invoke?qualifier=2', {}), 400, 'ValidationError'), /differ/);
  await errorOf(t, await stack.admin('POST', '/v1/functions/pub:a.b/invoke', {}), 400, 'ValidationError');
  await errorOf(t, await stack.admin('POST', '/v1/functions/pub:0/invoke', {}), 400, 'ValidationError');
  await errorOf(t, await stack.admin('POST', '/v1/functions/ghost:1/invoke', {}), 404, 'ResourceNotFound');
  await errorOf(t, await stack.admin('POST', '/v1/functions/pub:9/invoke?async=true', {}), 404, 'ResourceNotFound');
});

await t.test('updating $LATEST keeps the warm environment of version 1', async (t) => {
  const before = await invoke('/v1/functions/pub:1/invoke');
  const warm = await invoke('/v1/functions/pub:1/invoke');
  t.equal(warm.environment, before.environment, 'version 1 is warm');
  const latestBefore = await invoke('/v1/functions/pub/invoke');
  t.equal((await stack.admin('PUT', '/v1/functions/pub/code', code('C'), { 'content-type': 'application/zip' })).status, 200);
  t.equal((await stack.admin('PATCH', '/v1/functions/pub', { environment: { STAGE: 'two' } })).status, 200);
  const after = await invoke('/v1/functions/pub:1/invoke');
  t.equal(after.environment, before.environment, 'the same container serves version 1 after $LATEST changed');
  t.match(after.body, { tag: 'A', version: '1' });
  const latest = await invoke('/v1/functions/pub/invoke');
  t.not(latest.environment, latestBefore.environment, "$LATEST's old environment was retired");
  t.equal(latest.body.tag, 'C');
});

await t.test('an alias with 10/90 weights behind a route splits 1000 calls within ±5 %', async (t) => {
  const bad = await stack.admin('POST', '/v1/functions/pub/aliases', { name: '123', functionVersion: '1' });
  await errorOf(t, bad, 400, 'ValidationError');
  await errorOf(t, await stack.admin('POST', '/v1/functions/pub/aliases', { name: 'x', functionVersion: '9' }), 404, 'ResourceNotFound');
  await errorOf(t, await stack.admin('POST', '/v1/functions/pub/aliases', { name: 'x', functionVersion: '1', routingConfig: { additionalVersionWeights: { '2': 1.5 } } }), 400, 'ValidationError');
  await errorOf(t, await stack.admin('POST', '/v1/functions/pub/aliases', { name: 'x', functionVersion: '1', routingConfig: { additionalVersionWeights: { '2': 0.1, '3': 0.1 } } }), 400, 'ValidationError');
  const res = await stack.admin('POST', '/v1/functions/pub/aliases', { name: 'live', functionVersion: '1', description: 'canary', routingConfig: { additionalVersionWeights: { '2': 0.1 } } });
  t.equal(res.status, 201);
  const alias = (await res.json()) as Record<string, unknown>;
  t.match(alias, { name: 'live', function: 'pub', functionVersion: '1', description: 'canary', routingConfig: { additionalVersionWeights: { '2': 0.1 } } });
  await errorOf(t, await stack.admin('POST', '/v1/functions/pub/aliases', { name: 'live', functionVersion: '2' }), 409, 'ResourceConflict');
  const listed = (await (await stack.admin('GET', '/v1/functions/pub/aliases')).json()) as { aliases: { name: string }[] };
  t.same(listed.aliases.map((a) => a.name), ['live']);

  t.equal((await stack.admin('POST', '/v1/apis', { name: 'canary' })).status, 201);
  await errorOf(t, await stack.admin('POST', '/v1/apis/canary/routes', { routeKey: 'GET /x', function: 'pub:ghost' }), 400, 'ValidationError');
  t.equal((await stack.admin('POST', '/v1/apis/canary/routes', { routeKey: 'GET /split', function: 'pub:live' })).status, 201);
  t.equal((await stack.admin('POST', '/v1/apis/canary/routes', { routeKey: 'GET /two', function: 'pub:2' })).status, 201);
  const url = `${stack.gatewayUrl}/canary/split`;
  t.ok(await eventually(async () => (await fetch(url)).status === 200, 20_000, 100), 'the route answers');
  const two = (await (await fetch(`${stack.gatewayUrl}/canary/two`)).json()) as Ran['body'];
  t.match(two, { version: '2', tag: 'B' }, 'a route to fn:2 runs version 2');
  const counts: Record<string, number> = {};
  const CALLS = 1000;
  let failed = 0;
  for (let i = 0; i < CALLS; i++) {
    const r = await fetch(url);
    if (r.status !== 200) {
      failed += 1;
      await r.body?.cancel();
      continue;
    }
    const body = (await r.json()) as Ran['body'];
    counts[body.version] = (counts[body.version] ?? 0) + 1;
  }
  t.equal(failed, 0, 'every call succeeded');
  t.same(Object.keys(counts).sort(), ['1', '2'], 'only the two versions ran');
  const share = (counts['2'] ?? 0) / CALLS;
  t.ok(share >= 0.05 && share <= 0.15, `version 2 got ${(share * 100).toFixed(1)} % (want 10 ± 5 %)`);

  // Moving the alias: all traffic to version 2, visible to the next call.
  const revision = alias.revisionId as string;
  await errorOf(t, await stack.admin('PATCH', '/v1/functions/pub/aliases/live', { functionVersion: '2', routingConfig: null, revisionId: '00000000-0000-4000-8000-000000000000' }), 412, 'PreconditionFailed');
  const moved = await stack.admin('PATCH', '/v1/functions/pub/aliases/live', { functionVersion: '2', routingConfig: null, revisionId: revision });
  t.equal(moved.status, 200);
  t.match(await moved.json(), { functionVersion: '2', routingConfig: null });
  t.equal((await invoke('/v1/functions/pub:live/invoke')).executed, '2');
});

await t.test('async events and schedules run the version or alias they name; the ledger records it', async (t) => {
  const accepted = await stack.admin('POST', '/v1/functions/pub:1/invoke?async=true', {});
  t.equal(accepted.status, 202);
  const { invocationId } = (await accepted.json()) as { invocationId: string };
  let state: { status: string; result?: { version: string } } = { status: 'queued' };
  t.ok(
    await eventually(async () => {
      state = (await (await stack.admin('GET', `/v1/invocations/${invocationId}`)).json()) as typeof state;
      return state.status === 'succeeded' || state.status === 'failed';
    }, 30_000, 100),
    'the event ran',
  );
  t.match(state, { status: 'succeeded', result: { version: '1' } });
  await errorOf(t, await stack.admin('POST', '/v1/functions/pub/schedules', { expression: 'rate(1 second)', qualifier: 'ghost' }), 404, 'ResourceNotFound');
  await errorOf(t, await stack.admin('POST', '/v1/functions/pub/schedules', { expression: 'rate(1 second)', qualifier: 'a.b' }), 400, 'ValidationError');
  const created = await stack.admin('POST', '/v1/functions/pub/schedules', { expression: 'rate(1 second)', qualifier: 'live' });
  t.equal(created.status, 201);
  const schedule = (await created.json()) as { id: string; qualifier: string };
  t.equal(schedule.qualifier, 'live');
  type Item = { id: string; source: string; executedVersion: string };
  let items: Item[] = [];
  t.ok(
    await eventually(async () => {
      items = ((await (await stack.admin('GET', '/v1/functions/pub/invocations?limit=1000')).json()) as { invocations: Item[] }).invocations;
      return items.some((i) => i.source === 'schedule');
    }, 30_000, 200),
    'the schedule fired',
  );
  t.equal((await stack.admin('DELETE', `/v1/functions/pub/schedules/${schedule.id}`)).status, 204);
  t.ok(items.filter((i) => i.source === 'schedule').every((i) => i.executedVersion === '2'), 'the alias (now all on version 2) ran');
  t.equal(items.find((i) => i.id === invocationId)?.executedVersion, '1', 'the async event is metered as version 1');
});

await t.test('delete rules: a version an alias uses is 409; numbers are never reused; the function takes its versions and aliases', async (t) => {
  t.match(await errorOf(t, await stack.admin('DELETE', '/v1/functions/pub/versions/2'), 409, 'ResourceConflict'), /live/);
  await errorOf(t, await stack.admin('DELETE', '/v1/functions/pub/versions/$LATEST'), 400, 'ValidationError');
  t.equal((await stack.admin('DELETE', '/v1/functions/pub/versions/1')).status, 204);
  await errorOf(t, await stack.admin('POST', '/v1/functions/pub:1/invoke', {}), 404, 'ResourceNotFound');
  await errorOf(t, await stack.admin('DELETE', '/v1/functions/pub/versions/1'), 404, 'ResourceNotFound');
  t.equal((await stack.admin('DELETE', '/v1/functions/pub/aliases/live')).status, 204);
  await errorOf(t, await stack.admin('GET', '/v1/functions/pub/aliases/live'), 404, 'ResourceNotFound');
  t.equal((await stack.admin('DELETE', '/v1/functions/pub/versions/2')).status, 204);
  const three = (await (await stack.admin('POST', '/v1/functions/pub/versions', {})).json()) as Record<string, unknown>;
  t.equal(three.version, '3', 'after deleting 1 and 2 the next number is 3');
  t.equal((await stack.admin('POST', '/v1/functions/pub/aliases', { name: 'keep', functionVersion: '3' })).status, 201);
  t.equal((await stack.admin('DELETE', '/v1/apis/canary')).status, 204);
  t.equal((await stack.admin('DELETE', '/v1/functions/pub')).status, 204);
  await deployFunction(t, stack, 'pub', code('D'));
  const versions = (await (await stack.admin('GET', '/v1/functions/pub/versions')).json()) as { versions: { version: string }[] };
  t.same(versions.versions.map((v) => v.version), ['$LATEST'], 'a new function of the same name starts with no versions');
  t.same(((await (await stack.admin('GET', '/v1/functions/pub/aliases')).json()) as { aliases: unknown[] }).aliases, []);
});

await t.test('a zip without the handler module is accepted with a warning; the invoke fails as on Lambda', async (t) => {
  const zip = nodeZip('exports.other = async () => 1;', 'lib.js');
  const res = await stack.admin('POST', '/v1/functions', { name: 'nohandler', runtime: 'nodejs20', handler: 'index.handler', code: { zipBase64: zip.toString('base64') } });
  t.equal(res.status, 201);
  const body = (await res.json()) as { warnings: string[]; codeSha256: string };
  t.equal(body.warnings.length, 1);
  t.match(body.warnings[0], /index/);
  t.equal(body.codeSha256, createHash('sha256').update(zip).digest('hex'));
  const call = await stack.admin('POST', '/v1/functions/nohandler/invoke', {});
  t.equal(call.status, 200);
  t.equal(call.headers.get('x-gantry-function-error'), 'Unhandled');
  t.match(await call.json(), { errorType: 'Runtime.ImportModuleError' });
  // A later update brings the module: the warning goes, the invoke works.
  const fixed = await stack.admin('PUT', '/v1/functions/nohandler/code', nodeZip('exports.handler = async () => "ok";'), { 'content-type': 'application/zip' });
  t.equal(fixed.status, 200);
  t.notOk('warnings' in ((await fixed.json()) as object));
  t.equal(await (await stack.admin('POST', '/v1/functions/nohandler/invoke', {})).text(), '"ok"');
});
