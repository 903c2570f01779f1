// From inside a function, as on AWS: the bundled SDK, the function's own credentials and
// AWS_ENDPOINT_URL_LAMBDA reach Gantry's Lambda API with no configuration, through the one host
// port the function firewall opens for it.
import t from 'tap';
import { deployFunction, startStack } from '../support/stack.js';
import { nodeZip } from '../support/zip.js';

const CALLER = `const { LambdaClient, InvokeCommand, GetFunctionConfigurationCommand } = require('@aws-sdk/client-lambda');
exports.handler = async (event) => {
  const client = new LambdaClient({});
  const r = await client.send(new InvokeCommand({ FunctionName: event.target, Payload: JSON.stringify({ from: 'caller' }) }));
  const conf = await client.send(new GetFunctionConfigurationCommand({ FunctionName: event.target }));
  return {
    status: r.StatusCode,
    version: r.ExecutedVersion,
    payload: JSON.parse(Buffer.from(r.Payload).toString('utf8')),
    calleeArn: conf.FunctionArn,
    endpoint: process.env.AWS_ENDPOINT_URL_LAMBDA,
  };
};`;
const CALLEE = `exports.handler = async (event, context) => ({ callee: context.functionName, event });`;

const stack = await startStack(t);

await t.test('a function invokes another with new LambdaClient({}) and no configuration', async (t) => {
  await deployFunction(t, stack, 'callee', nodeZip(CALLEE));
  await deployFunction(t, stack, 'caller', nodeZip(CALLER), { timeoutMs: 30_000 });
  const res = await stack.admin('POST', '/v1/functions/caller/invoke', { target: 'callee' });
  t.equal(res.status, 200);
  const body = (await res.json()) as Record<string, any>;
  t.equal(res.headers.get('x-gantry-function-error'), null, JSON.stringify(body));
  t.match(body.endpoint, /^http:\/\/[\d.]+:\d+$/, 'AWS_ENDPOINT_URL_LAMBDA is set');
  t.equal(body.status, 200);
  t.equal(body.version, '$LATEST');
  t.same(body.payload, { callee: 'callee', event: { from: 'caller' } });
  t.equal(body.calleeArn, 'arn:aws:lambda:us-east-1:000000000000:function:callee');
});

await t.test('the function-facing listener serves the Lambda API only', async (t) => {
  const probe = `exports.handler = async () => {
    const r = await fetch(process.env.AWS_ENDPOINT_URL_LAMBDA + '/v1/functions');
    return { status: r.status, type: r.headers.get('x-amzn-errortype') };
  };`;
  await deployFunction(t, stack, 'prober', nodeZip(probe), { timeoutMs: 10_000 });
  const res = await stack.admin('POST', '/v1/functions/prober/invoke', {});
  const body = (await res.json()) as Record<string, unknown>;
  t.same(body, { status: 404, type: 'UnknownOperationException' }, 'the admin API is not reachable there');
});
