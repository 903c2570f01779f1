// The AWS Lambda API as @aws-sdk/client-lambda calls it, unmodified, against a real stack:
// create, the SDK's waiters, every invocation type, code and configuration updates with their
// preconditions, the settings operations, and the error names the SDK surfaces.
import { createHash } from 'node:crypto';
import t from 'tap';
import {
  AddPermissionCommand, CreateAliasCommand, CreateFunctionCommand, DeleteAliasCommand, GetAliasCommand, ListAliasesCommand, ListFunctionsCommand,
  ListVersionsByFunctionCommand, PublishVersionCommand, UpdateAliasCommand, DeleteFunctionCommand, DeleteFunctionConcurrencyCommand, GetAccountSettingsCommand,
  GetFunctionCodeSigningConfigCommand, GetFunctionCommand, GetFunctionConcurrencyCommand, GetFunctionConfigurationCommand,
  GetFunctionEventInvokeConfigCommand, GetPolicyCommand, InvokeCommand, LambdaClient, ListLayersCommand, ListTagsCommand,
  paginateListFunctions, PutFunctionConcurrencyCommand, PutFunctionEventInvokeConfigCommand, RemovePermissionCommand, TagResourceCommand,
  UntagResourceCommand, UpdateFunctionCodeCommand, UpdateFunctionConfigurationCommand, waitUntilFunctionActiveV2, waitUntilFunctionUpdatedV2,
} from '@aws-sdk/client-lambda';
import { startStack } from '../support/stack.js';
import { nodeZip } from '../support/zip.js';

const stack = await startStack(t);
// Real SigV4: a key made over the admin API.
const key = (await (await stack.admin('POST', '/v1/access-keys', { description: 'lambda api e2e' })).json()) as { accessKeyId: string; secretAccessKey: string };
const clientConfig = {
  endpoint: stack.controlPlaneUrl,
  region: 'us-east-1',
  credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey },
};
const client = new LambdaClient(clientConfig);
// Errors are asserted at their first answer, not after the SDK's retries.
const once = new LambdaClient({ ...clientConfig, maxAttempts: 1 });
const ROLE = 'arn:aws:iam::000000000000:role/lambda-test';

const V1 = `exports.handler = async (event, context) => {
  console.log('hello-from-v1');
  return { v: 1, event, version: process.env.AWS_LAMBDA_FUNCTION_VERSION, custom: context.clientContext ? context.clientContext.custom : null };
};`;
const V2 = `exports.handler = async (event) => ({ v: 2, event });`;
const decode = (p: Uint8Array | undefined) => JSON.parse(Buffer.from(p ?? new Uint8Array()).toString('utf8')) as Record<string, any>;
const errorOf = async (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as { name: string; message: string; $metadata: { httpStatusCode?: number }; Reason?: string; $response?: unknown });

await t.test('create, wait until active, invoke every way, update with preconditions, delete', async (t) => {
  const zip1 = nodeZip(V1);
  const created = await client.send(new CreateFunctionCommand({
    FunctionName: 'sdk-fn', Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { ZipFile: zip1 },
    MemorySize: 256, Timeout: 10, Description: 'made by the sdk', Environment: { Variables: { STAGE: 'test' } }, Tags: { team: 'a' },
  }));
  t.equal(created.$metadata.httpStatusCode, 201);
  t.equal(created.FunctionArn, 'arn:aws:lambda:us-east-1:000000000000:function:sdk-fn');
  t.equal(created.Runtime, 'nodejs20.x');
  t.equal(created.Role, ROLE);
  t.equal(created.CodeSha256, createHash('sha256').update(zip1).digest('base64'));
  t.equal(created.CodeSize, zip1.length);
  t.equal(created.Timeout, 10);
  t.equal(created.MemorySize, 256);
  t.equal(created.Description, 'made by the sdk');
  t.same(created.Environment?.Variables, { STAGE: 'test' });
  t.equal(created.Version, '$LATEST');
  t.match(created.LastModified, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/);
  t.ok(created.RevisionId);

  const active = await waitUntilFunctionActiveV2({ client, maxWaitTime: 30, minDelay: 1, maxDelay: 2 }, { FunctionName: 'sdk-fn' });
  t.equal(active.state, 'SUCCESS');

  const got = await client.send(new GetFunctionCommand({ FunctionName: 'sdk-fn' }));
  t.equal(got.Configuration?.State, 'Active');
  t.same(got.Tags, { team: 'a' });
  t.equal(got.Code?.RepositoryType, 'S3');
  const download = await fetch(got.Code?.Location ?? '');
  t.equal(download.status, 200, 'Code.Location downloads the package');
  t.same(Buffer.from(await download.arrayBuffer()), zip1);
  const forged = new URL(got.Code?.Location ?? '');
  forged.searchParams.set('Expires', String(Number(forged.searchParams.get('Expires')) + 3600));
  t.equal((await fetch(forged)).status, 403, 'a URL whose expiry was moved is refused');

  const clientContext = Buffer.from(JSON.stringify({ custom: { tenant: 'ü-42' } })).toString('base64');
  const sync = await client.send(new InvokeCommand({ FunctionName: 'sdk-fn', Payload: Buffer.from('{"a":1}'), ClientContext: clientContext }));
  t.equal(sync.StatusCode, 200);
  t.equal(sync.ExecutedVersion, '$LATEST');
  t.equal(sync.FunctionError, undefined);
  t.ok(sync.$metadata.requestId);
  t.same(decode(sync.Payload), { v: 1, event: { a: 1 }, version: '$LATEST', custom: { tenant: 'ü-42' } });

  const tail = await client.send(new InvokeCommand({ FunctionName: 'sdk-fn', Payload: Buffer.from('{}'), LogType: 'Tail' }));
  const log = Buffer.from(tail.LogResult ?? '', 'base64').toString('utf8');
  t.match(log, new RegExp(`START RequestId: ${tail.$metadata.requestId} Version: \\$LATEST`));
  t.match(log, /hello-from-v1/);
  t.match(log, new RegExp(`END RequestId: ${tail.$metadata.requestId}`));
  t.match(log, /REPORT RequestId: \S+\tDuration: [\d.]+ ms\tBilled Duration: \d+ ms\tMemory Size: 256 MB\t/);

  const event = await client.send(new InvokeCommand({ FunctionName: 'sdk-fn', InvocationType: 'Event', Payload: Buffer.from('{"async":true}') }));
  t.equal(event.StatusCode, 202);
  const dry = await client.send(new InvokeCommand({ FunctionName: 'sdk-fn', InvocationType: 'DryRun' }));
  t.equal(dry.StatusCode, 204);
  const arnInvoke = await client.send(new InvokeCommand({ FunctionName: 'arn:aws:lambda:us-east-1:000000000000:function:sdk-fn:$LATEST', Payload: Buffer.from('{}') }));
  t.equal(arnInvoke.StatusCode, 200, 'a qualified ARN in the path works');

  const bad = await errorOf(once.send(new InvokeCommand({ FunctionName: 'sdk-fn', Payload: Buffer.from('not json') })));
  t.equal(bad?.name, 'InvalidRequestContentException');
  t.equal(bad?.$metadata.httpStatusCode, 400);

  const zip2 = nodeZip(V2);
  const updated = await client.send(new UpdateFunctionCodeCommand({ FunctionName: 'sdk-fn', ZipFile: zip2 }));
  t.equal(updated.CodeSha256, createHash('sha256').update(zip2).digest('base64'));
  t.not(updated.RevisionId, created.RevisionId);
  const ready = await waitUntilFunctionUpdatedV2({ client, maxWaitTime: 30, minDelay: 1, maxDelay: 2 }, { FunctionName: 'sdk-fn' });
  t.equal(ready.state, 'SUCCESS');
  t.same(decode((await client.send(new InvokeCommand({ FunctionName: 'sdk-fn', Payload: Buffer.from('{"b":2}') }))).Payload), { v: 2, event: { b: 2 } });

  const stale = await errorOf(once.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'sdk-fn', Timeout: 5, RevisionId: created.RevisionId })));
  t.equal(stale?.name, 'PreconditionFailedException');
  t.equal(stale?.$metadata.httpStatusCode, 412);
  const conf = await client.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'sdk-fn', Timeout: 5, Description: 'changed', RevisionId: updated.RevisionId }));
  t.equal(conf.Timeout, 5);
  t.equal(conf.Description, 'changed');
  t.equal(conf.MemorySize, 256, 'members not given keep their value');
  const read = await client.send(new GetFunctionConfigurationCommand({ FunctionName: 'sdk-fn' }));
  t.equal(read.RevisionId, conf.RevisionId);

  await client.send(new DeleteFunctionCommand({ FunctionName: 'sdk-fn' }));
  const gone = await errorOf(once.send(new GetFunctionCommand({ FunctionName: 'sdk-fn' })));
  t.equal(gone?.name, 'ResourceNotFoundException');
  t.equal(gone?.$metadata.httpStatusCode, 404);
  t.match(gone?.message, /Function not found: arn:aws:lambda:us-east-1:000000000000:function:sdk-fn/);
});

await t.test('publish versions, an alias with 10/90 weights: 1000 invokes split within ±5 %', async (t) => {
  const SOURCE = (n: number) => `exports.handler = async () => ({ code: ${n}, version: process.env.AWS_LAMBDA_FUNCTION_VERSION });`;
  await client.send(new CreateFunctionCommand({ FunctionName: 'sdk-ver', Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { ZipFile: nodeZip(SOURCE(1)) }, Publish: true }));
  const listed = await client.send(new ListVersionsByFunctionCommand({ FunctionName: 'sdk-ver' }));
  t.same(listed.Versions?.map((v) => v.Version), ['$LATEST', '1'], 'Publish on create made version 1');
  await client.send(new UpdateFunctionCodeCommand({ FunctionName: 'sdk-ver', ZipFile: nodeZip(SOURCE(2)) }));
  const v2 = await client.send(new PublishVersionCommand({ FunctionName: 'sdk-ver', Description: 'second' }));
  t.equal(v2.$metadata.httpStatusCode, 201);
  t.equal(v2.Version, '2');
  t.equal(v2.FunctionArn, 'arn:aws:lambda:us-east-1:000000000000:function:sdk-ver:2');
  t.equal(v2.Description, 'second');

  const all = await client.send(new ListFunctionsCommand({ FunctionVersion: 'ALL' }));
  t.same(all.Functions?.filter((f) => f.FunctionName === 'sdk-ver').map((f) => f.Version), ['$LATEST', '1', '2'], 'FunctionVersion=ALL lists the versions');
  const one = await client.send(new InvokeCommand({ FunctionName: 'sdk-ver', Qualifier: '1', Payload: Buffer.from('{}') }));
  t.equal(one.ExecutedVersion, '1');
  t.same(decode(one.Payload), { code: 1, version: '1' });
  t.equal((await client.send(new GetFunctionConfigurationCommand({ FunctionName: 'sdk-ver:1' }))).Version, '1');

  const badWeight = await errorOf(once.send(new CreateAliasCommand({ FunctionName: 'sdk-ver', Name: 'live', FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '2': 1.5 } } })));
  t.equal(badWeight?.name, 'ValidationException');
  const alias = await client.send(new CreateAliasCommand({ FunctionName: 'sdk-ver', Name: 'live', FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: { '2': 0.1 } } }));
  t.equal(alias.AliasArn, 'arn:aws:lambda:us-east-1:000000000000:function:sdk-ver:live');
  t.same(alias.RoutingConfig?.AdditionalVersionWeights, { '2': 0.1 });
  t.equal((await client.send(new GetAliasCommand({ FunctionName: 'sdk-ver', Name: 'live' }))).RevisionId, alias.RevisionId);

  const counts: Record<string, number> = {};
  for (let i = 0; i < 1000; i++) {
    const r = await client.send(new InvokeCommand({ FunctionName: 'sdk-ver:live', Payload: Buffer.from('{}') }));
    const version = r.ExecutedVersion ?? 'none';
    counts[version] = (counts[version] ?? 0) + 1;
    if (i < 50) t.equal(decode(r.Payload).version, version, 'the version that ran is the one reported');
  }
  t.equal((counts['1'] ?? 0) + (counts['2'] ?? 0), 1000, `only versions 1 and 2 ran: ${JSON.stringify(counts)}`);
  t.ok((counts['2'] ?? 0) >= 50 && (counts['2'] ?? 0) <= 150, `version 2 got ${counts['2'] ?? 0} of 1000 (10 % ± 5 %)`);

  const stale = await errorOf(once.send(new UpdateAliasCommand({ FunctionName: 'sdk-ver', Name: 'live', FunctionVersion: '2', RevisionId: '00000000-0000-0000-0000-000000000000' })));
  t.equal(stale?.name, 'PreconditionFailedException');
  const moved = await client.send(new UpdateAliasCommand({ FunctionName: 'sdk-ver', Name: 'live', FunctionVersion: '2', RoutingConfig: { AdditionalVersionWeights: {} }, RevisionId: alias.RevisionId }));
  t.equal(moved.FunctionVersion, '2');
  t.equal(moved.RoutingConfig, undefined);
  t.same((await client.send(new ListAliasesCommand({ FunctionName: 'sdk-ver' }))).Aliases?.map((a) => a.Name), ['live']);
  const inUse = await errorOf(once.send(new DeleteFunctionCommand({ FunctionName: 'sdk-ver', Qualifier: '2' })));
  t.equal(inUse?.name, 'ResourceConflictException', 'a version an alias routes to is not deleted');
  await client.send(new DeleteFunctionCommand({ FunctionName: 'sdk-ver', Qualifier: '1' }));
  t.equal((await errorOf(once.send(new GetFunctionCommand({ FunctionName: 'sdk-ver', Qualifier: '1' }))))?.name, 'ResourceNotFoundException');
  await client.send(new DeleteAliasCommand({ FunctionName: 'sdk-ver', Name: 'live' }));
  t.equal((await errorOf(once.send(new GetAliasCommand({ FunctionName: 'sdk-ver', Name: 'live' }))))?.name, 'ResourceNotFoundException');
  await client.send(new DeleteFunctionCommand({ FunctionName: 'sdk-ver' }));
});

await t.test('reserved concurrency 0 throttles with TooManyRequestsException and its Reason', async (t) => {
  await client.send(new CreateFunctionCommand({ FunctionName: 'sdk-throttled', Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', Code: { ZipFile: nodeZip(V2) } }));
  const put = await client.send(new PutFunctionConcurrencyCommand({ FunctionName: 'sdk-throttled', ReservedConcurrentExecutions: 0 }));
  t.equal(put.ReservedConcurrentExecutions, 0);
  t.equal((await client.send(new GetFunctionConcurrencyCommand({ FunctionName: 'sdk-throttled' }))).ReservedConcurrentExecutions, 0);
  const throttled = await errorOf(once.send(new InvokeCommand({ FunctionName: 'sdk-throttled', Payload: Buffer.from('{}') })));
  t.equal(throttled?.name, 'TooManyRequestsException');
  t.equal(throttled?.$metadata.httpStatusCode, 429);
  t.equal(throttled?.Reason, 'ReservedFunctionConcurrentInvocationLimitExceeded');
  await client.send(new DeleteFunctionConcurrencyCommand({ FunctionName: 'sdk-throttled' }));
  t.same((await client.send(new GetFunctionConcurrencyCommand({ FunctionName: 'sdk-throttled' }))).ReservedConcurrentExecutions, undefined);
  t.equal((await client.send(new InvokeCommand({ FunctionName: 'sdk-throttled', Payload: Buffer.from('{}') }))).StatusCode, 200);
});

await t.test('ListFunctions pages through every function', async (t) => {
  for (const n of ['sdk-list-a', 'sdk-list-b', 'sdk-list-c']) {
    await client.send(new CreateFunctionCommand({ FunctionName: n, Runtime: 'python3.11', Role: ROLE, Handler: 'index.handler', Code: { ZipFile: nodeZip('def handler(e, c):\n  return e\n', 'index.py') } }));
  }
  const names: string[] = [];
  let pages = 0;
  for await (const page of paginateListFunctions({ client, pageSize: 2 }, {})) {
    pages += 1;
    t.ok((page.Functions ?? []).length <= 2);
    names.push(...(page.Functions ?? []).map((f) => f.FunctionName ?? ''));
    if (pages > 10) break;
  }
  t.same(names.filter((n) => n.startsWith('sdk-list-')), ['sdk-list-a', 'sdk-list-b', 'sdk-list-c']);
  t.ok(pages >= 2, 'more than one page');
});

await t.test('tags, permissions, event-invoke config, account settings, code signing', async (t) => {
  const arn = 'arn:aws:lambda:us-east-1:000000000000:function:sdk-list-a';
  await client.send(new TagResourceCommand({ Resource: arn, Tags: { a: '1', b: '2' } }));
  await client.send(new UntagResourceCommand({ Resource: arn, TagKeys: ['a'] }));
  t.same((await client.send(new ListTagsCommand({ Resource: arn }))).Tags, { b: '2' });

  const noPolicy = await errorOf(once.send(new GetPolicyCommand({ FunctionName: 'sdk-list-a' })));
  t.equal(noPolicy?.name, 'ResourceNotFoundException');
  const added = await client.send(new AddPermissionCommand({ FunctionName: 'sdk-list-a', StatementId: 'apigw', Action: 'lambda:InvokeFunction', Principal: 'apigateway.amazonaws.com', SourceArn: 'arn:aws:execute-api:us-east-1:000000000000:abc/*' }));
  t.same(JSON.parse(added.Statement ?? '{}'), {
    Sid: 'apigw', Effect: 'Allow', Principal: { Service: 'apigateway.amazonaws.com' }, Action: 'lambda:InvokeFunction', Resource: arn,
    Condition: { ArnLike: { 'AWS:SourceArn': 'arn:aws:execute-api:us-east-1:000000000000:abc/*' } },
  });
  const dup = await errorOf(once.send(new AddPermissionCommand({ FunctionName: 'sdk-list-a', StatementId: 'apigw', Action: 'lambda:InvokeFunction', Principal: 's3.amazonaws.com' })));
  t.equal(dup?.name, 'ResourceConflictException');
  const policy = JSON.parse((await client.send(new GetPolicyCommand({ FunctionName: 'sdk-list-a' }))).Policy ?? '{}') as { Statement: { Sid: string }[] };
  t.same(policy.Statement.map((s) => s.Sid), ['apigw']);
  await client.send(new RemovePermissionCommand({ FunctionName: 'sdk-list-a', StatementId: 'apigw' }));
  t.equal((await errorOf(once.send(new RemovePermissionCommand({ FunctionName: 'sdk-list-a', StatementId: 'apigw' }))))?.name, 'ResourceNotFoundException');

  const eic = await client.send(new PutFunctionEventInvokeConfigCommand({
    FunctionName: 'sdk-list-a', MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 120,
    DestinationConfig: { OnSuccess: { Destination: 'arn:aws:lambda:us-east-1:000000000000:function:sdk-list-b' } },
  }));
  t.equal(eic.MaximumRetryAttempts, 0);
  t.equal(eic.DestinationConfig?.OnSuccess?.Destination, 'arn:aws:lambda:us-east-1:000000000000:function:sdk-list-b');
  t.ok(eic.LastModified instanceof Date);
  const eicRead = await client.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: 'sdk-list-a' }));
  t.equal(eicRead.MaximumEventAgeInSeconds, 120);
  const sqs = await errorOf(once.send(new PutFunctionEventInvokeConfigCommand({ FunctionName: 'sdk-list-a', DestinationConfig: { OnFailure: { Destination: 'arn:aws:sqs:us-east-1:000000000000:q' } } })));
  t.equal(sqs?.name, 'InvalidParameterValueException');

  const settings = await client.send(new GetAccountSettingsCommand({}));
  t.ok((settings.AccountUsage?.FunctionCount ?? 0) >= 3);
  t.equal(settings.AccountLimit?.CodeSizeZipped, 52_428_800);
  const csc = await client.send(new GetFunctionCodeSigningConfigCommand({ FunctionName: 'sdk-list-a' }));
  t.equal(csc.FunctionName, 'sdk-list-a');
  t.equal(csc.CodeSigningConfigArn, '');
});

await t.test('errors carry the names the SDK knows', async (t) => {
  const small = await errorOf(once.send(new CreateFunctionCommand({ FunctionName: 'sdk-small', Runtime: 'nodejs20.x', Role: ROLE, Handler: 'index.handler', MemorySize: 64, Code: { ZipFile: nodeZip(V2) } })));
  t.equal(small?.name, 'ValidationException');
  t.match(small?.message, /Value '64' at 'memorySize' failed to satisfy constraint: Member must have value greater than or equal to 128/);
  const twice = await errorOf(once.send(new CreateFunctionCommand({ FunctionName: 'sdk-list-a', Runtime: 'python3.11', Role: ROLE, Handler: 'index.handler', Code: { ZipFile: nodeZip(V2) } })));
  t.equal(twice?.name, 'ResourceConflictException');
  const reserved = await errorOf(once.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'sdk-list-a', Environment: { Variables: { AWS_REGION: 'x' } } })));
  t.equal(reserved?.name, 'InvalidParameterValueException');
  const qualifier = await errorOf(once.send(new GetFunctionCommand({ FunctionName: 'sdk-list-a:$LATEST', Qualifier: '1' })));
  t.equal(qualifier?.name, 'InvalidParameterValueException');
  const version = await errorOf(once.send(new GetFunctionCommand({ FunctionName: 'sdk-list-a', Qualifier: '7' })));
  t.equal(version?.name, 'ResourceNotFoundException');
  const wrongSecret = new LambdaClient({ ...clientConfig, maxAttempts: 1, credentials: { accessKeyId: key.accessKeyId, secretAccessKey: 'not-the-secret' } });
  const unsigned = await errorOf(wrongSecret.send(new GetFunctionCommand({ FunctionName: 'sdk-list-a' })));
  t.equal(unsigned?.name, 'InvalidSignatureException', 'SigV4 is verified');
  t.equal(unsigned?.$metadata.httpStatusCode, 403);
  const layers = await errorOf(once.send(new ListLayersCommand({})));
  t.equal(layers?.name, 'UnsupportedOperationException');
  t.equal(layers?.$metadata.httpStatusCode, 501);
  t.match(layers?.message, /ListLayers is not supported by Gantry/);
});

await t.test('unsigned, bearer-token and malformed requests get the envelope, never a page', async (t) => {
  const unsigned = await fetch(`${stack.controlPlaneUrl}/2015-03-31/functions`);
  t.equal(unsigned.status, 403);
  t.ok(unsigned.headers.get('x-amzn-errortype'), 'an AWS error name');
  const bearer = await fetch(`${stack.controlPlaneUrl}/2015-03-31/functions`, { headers: { authorization: `Bearer ${stack.token}` } });
  t.ok(bearer.status === 400 || bearer.status === 403, `the admin token is no SigV4 credential (${bearer.status})`);
  t.ok(bearer.headers.get('x-amzn-errortype'));
  const malformed = await fetch(`${stack.controlPlaneUrl}/2015-03-31/functions/%E0%A4%A/configuration`);
  t.equal(malformed.status, 400);
  t.equal(malformed.headers.get('x-amzn-errortype'), 'ValidationException');
  t.ok(malformed.headers.get('x-amzn-requestid'));
  t.match(await malformed.json(), { Type: 'User' });
  const admin = await stack.admin('GET', '/v1/functions');
  t.equal(admin.status, 200, 'the admin API is untouched');
});
