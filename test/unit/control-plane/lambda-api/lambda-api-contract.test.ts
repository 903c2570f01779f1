// The pure parts of the Lambda API: FunctionName parsing, the GantryError → AWS exception table,
// the envelope, the operations of the SDK's model (each implemented or answered as unsupported),
// presigned code URLs, the client context, and the configuration's formats.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import t from 'tap';
import { ERROR_STATUS, GantryError, type ErrorType } from '../../../../common/errors.js';
import { CodeLocation } from '../../../../control-plane/lambda-api/code-location.js';
import { base64Sha256, lastModified } from '../../../../control-plane/lambda-api/function-configuration.js';
import { parseFunctionRef } from '../../../../control-plane/lambda-api/function-name.js';
import { clientContextOf } from '../../../../control-plane/lambda-api/invoke-routes.js';
import { LambdaApiError, toLambdaError, writeLambdaError } from '../../../../control-plane/lambda-api/lambda-errors.js';
import { UNSUPPORTED_OPERATIONS } from '../../../../control-plane/lambda-api/unsupported-operations.js';

const codeOf = (f: () => unknown) => {
  try {
    f();
    return undefined;
  } catch (e) {
    return (e as LambdaApiError).code;
  }
};

t.test('FunctionName: names, qualified names, full and partial ARNs', async (t) => {
  t.same(parseFunctionRef('pets', undefined), { name: 'pets' });
  t.same(parseFunctionRef('pets:live', undefined), { name: 'pets', qualifier: 'live' });
  t.same(parseFunctionRef('pets', '3'), { name: 'pets', qualifier: '3' });
  t.same(parseFunctionRef('arn:aws:lambda:us-east-1:000000000000:function:pets', undefined), { name: 'pets' });
  t.same(parseFunctionRef('arn:aws:lambda:us-east-1:000000000000:function:pets:$LATEST', '$LATEST'), { name: 'pets', qualifier: '$LATEST' });
  t.same(parseFunctionRef('000000000000:function:pets:2', undefined), { name: 'pets', qualifier: '2' });
  t.equal(codeOf(() => parseFunctionRef('arn:aws:lambda:us-east-1:000000000000:function:pets:$LATEST', '1')), 'InvalidParameterValueException');
  t.equal(codeOf(() => parseFunctionRef('bad name', undefined)), 'ValidationException');
  t.equal(codeOf(() => parseFunctionRef('a:b:c', undefined)), 'ValidationException');
  t.equal(codeOf(() => parseFunctionRef('x'.repeat(171), undefined)), 'ValidationException');
  t.equal(codeOf(() => parseFunctionRef('pets', 'bad qualifier')), 'ValidationException');
  t.equal(codeOf(() => parseFunctionRef('', undefined)), 'ValidationException');
});

t.test('every GantryError type has its AWS exception and status', async (t) => {
  const want: Record<ErrorType, [string, number]> = {
    ValidationError: ['InvalidParameterValueException', 400],
    Unauthorized: ['UnrecognizedClientException', 403],
    Forbidden: ['AccessDeniedException', 403],
    ResourceNotFound: ['ResourceNotFoundException', 404],
    ResourceConflict: ['ResourceConflictException', 409],
    PreconditionFailed: ['PreconditionFailedException', 412],
    RequestTooLarge: ['RequestEntityTooLargeException', 413],
    TooManyRequests: ['TooManyRequestsException', 429],
    InternalError: ['ServiceException', 500],
    BadGateway: ['ServiceException', 502],
    ServiceUnavailable: ['ServiceException', 503],
    Timeout: ['ServiceException', 504],
  };
  t.same(Object.keys(want).sort(), Object.keys(ERROR_STATUS).sort(), 'the table covers every type');
  for (const type of Object.keys(ERROR_STATUS) as ErrorType[]) {
    const e = toLambdaError(new GantryError(type, 'x', { component: 'admin-api' }));
    t.same([e.code, e.status], want[type], type);
  }
  const throttle = toLambdaError(new GantryError('TooManyRequests', 'x', { component: 'scheduler', details: { reason: 'ReservedFunctionConcurrentInvocationLimitExceeded' } }));
  t.same(throttle.extra, { Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded' });
  t.equal(toLambdaError(new Error('boom')).code, 'ServiceException');
  t.equal(toLambdaError(new Error('boom')).message, 'An internal error occurred.', 'nothing of an unexpected error leaks');
});

t.test('the envelope: header, request id, the model\'s message key, Retry-After', async (t) => {
  const sent: { status?: number; headers?: Record<string, string | number>; body?: string } = {};
  const res = {
    headersSent: false,
    destroyed: false,
    writeHead(status: number, headers: Record<string, string | number>) {
      sent.status = status;
      sent.headers = headers;
    },
    end(body: string) {
      sent.body = body;
    },
  } as unknown as Parameters<typeof writeLambdaError>[0];
  writeLambdaError(res, new LambdaApiError('TooManyRequestsException', 'Rate Exceeded.', { Reason: 'ConcurrentInvocationLimitExceeded' }), 'req-1');
  t.equal(sent.status, 429);
  t.equal(sent.headers?.['x-amzn-ErrorType'], 'TooManyRequestsException');
  t.equal(sent.headers?.['x-amzn-RequestId'], 'req-1');
  t.equal(sent.headers?.['Retry-After'], '1');
  t.same(JSON.parse(sent.body ?? ''), { Type: 'User', message: 'Rate Exceeded.', Reason: 'ConcurrentInvocationLimitExceeded' });
  writeLambdaError(res, new LambdaApiError('ResourceNotFoundException', 'Function not found: x'), 'req-2');
  t.same(JSON.parse(sent.body ?? ''), { Type: 'User', Message: 'Function not found: x' }, 'ResourceNotFoundException uses Message');
});

t.test('every operation of the SDK model is implemented or answered as unsupported', async (t) => {
  const require = createRequire(import.meta.url);
  const pkg = path.dirname(require.resolve('@aws-sdk/client-lambda/package.json'));
  const schemas = readFileSync(path.join(pkg, 'dist-es/schemas/schemas_0.js'), 'utf8');
  const model = [...schemas.matchAll(/export var ([A-Za-z]+)\$ = \[9, /g)].map((m) => m[1] as string).sort();
  t.ok(model.length >= 85, `the model has ${model.length} operations`);
  const implemented = [
    'AddPermission', 'CreateAlias', 'CreateFunction', 'DeleteAlias', 'DeleteFunction', 'DeleteFunctionConcurrency', 'DeleteFunctionEventInvokeConfig',
    'DeleteProvisionedConcurrencyConfig', 'GetAccountSettings', 'GetAlias', 'GetFunction', 'GetFunctionCodeSigningConfig', 'GetFunctionConcurrency',
    'GetFunctionConfiguration', 'GetFunctionEventInvokeConfig', 'GetFunctionRecursionConfig', 'GetPolicy', 'GetProvisionedConcurrencyConfig',
    'GetRuntimeManagementConfig', 'Invoke', 'InvokeAsync', 'ListAliases', 'ListFunctionEventInvokeConfigs', 'ListFunctions',
    'ListProvisionedConcurrencyConfigs', 'ListTags', 'ListVersionsByFunction', 'PublishVersion', 'PutFunctionConcurrency',
    'PutFunctionEventInvokeConfig', 'PutProvisionedConcurrencyConfig', 'RemovePermission', 'TagResource', 'UntagResource', 'UpdateAlias',
    'UpdateFunctionCode', 'UpdateFunctionConfiguration', 'UpdateFunctionEventInvokeConfig',
  ];
  t.same([...implemented, ...UNSUPPORTED_OPERATIONS].sort(), model, 'implemented + unsupported = the model, each once');
});

t.test('presigned code URLs: valid until they expire, and bound to their archive', async (t) => {
  let now = 1_000_000_000_000;
  const loc = new CodeLocation(() => 'secret', () => now);
  const sha = 'a'.repeat(64);
  const url = new URL(loc.url('http://h:9000', sha));
  t.equal(loc.verify(url.pathname, url.searchParams), sha);
  const other = new URL(url);
  other.pathname = `/gantry-lambda-code/${'b'.repeat(64)}.zip`;
  t.equal(loc.verify(other.pathname, other.searchParams), undefined, 'another archive');
  t.equal(new CodeLocation(() => 'other', () => now).verify(url.pathname, url.searchParams), undefined, 'another secret');
  now += 601_000;
  t.equal(loc.verify(url.pathname, url.searchParams), undefined, 'expired');
});

t.test('client context: base64 JSON object, delivered as ASCII JSON text', async (t) => {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  t.equal(clientContextOf(undefined), undefined);
  t.equal(clientContextOf(b64('{"custom":{"k":"ü"}}')), '{"custom":{"k":"\\u00fc"}}');
  t.same(JSON.parse(clientContextOf(b64('{"custom":{"k":"ü"}}')) ?? ''), { custom: { k: 'ü' } });
  t.equal(codeOf(() => clientContextOf('%%%')), 'InvalidRequestContentException');
  t.equal(codeOf(() => clientContextOf(b64('[1]'))), 'InvalidRequestContentException');
  t.equal(codeOf(() => clientContextOf(b64('not json'))), 'InvalidRequestContentException');
  t.equal(codeOf(() => clientContextOf('A'.repeat(3584))), 'InvalidParameterValueException');
});

t.test('formats: LastModified and CodeSha256 as AWS writes them', async (t) => {
  t.equal(lastModified(new Date('2025-01-05T10:15:30.000Z')), '2025-01-05T10:15:30.000+0000');
  t.equal(base64Sha256('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'), '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=');
});
