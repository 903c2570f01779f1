// The AWS SDKs the BUILT runtime images bundle (npm run images), as AWS's runtimes do: the v3
// clients in every gantry/nodejs* image, for CommonJS and ES module handlers alike, and boto3 in
// every gantry/python* image. A function's own copy (in its zip) wins over the bundled one.
// Containers run as the control plane runs them (test/support/runtime-container.ts), with no
// network: nothing here is fetched at run time. A missing image fails the test; it never skips.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import type { Test } from 'tap';
import { requireImage, startRuntimeContainer } from '../support/runtime-container.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixtures = path.resolve(here, '../fixtures/functions');
const WAIT_MS = 30_000;
const NODE_IMAGES = ['nodejs20', 'nodejs22', 'nodejs24'];
const PYTHON_IMAGES = ['python3.11', 'python3.13'];
const CLIENTS = ['client-lambda', 'client-apigatewaymanagementapi', 'client-s3', 'client-sqs', 'client-dynamodb'];

async function invoke(t: Test, runtime: string, fixture: string, handler: string): Promise<Record<string, unknown>> {
  const image = `gantry/${runtime}:latest`;
  if (!(await requireImage(t, image))) throw new Error(`${image} missing`);
  const c = await startRuntimeContainer(t, { image, taskDir: path.join(fixtures, fixture), handler, testLabel: 'runtime-aws-sdk-images' });
  const res = await c.api.invoke({}, {}, WAIT_MS).catch((e: Error) => {
    throw new Error(`${e.message}; container output: ${c.logs()}`);
  });
  t.equal(res.kind, 'response', `a response, not an error (container output: ${c.logs()})`);
  return res.json as Record<string, unknown>;
}

for (const runtime of NODE_IMAGES) {
  t.test(`${runtime}: a CommonJS handler requires the five bundled clients and sends through one`, async (t) => {
    const out = await invoke(t, runtime, 'aws-sdk/bundled', 'index.handler');
    const resolved = out.resolved as Record<string, string>;
    for (const name of CLIENTS) t.match(resolved[name], new RegExp(`^/var/runtime/node_modules/@aws-sdk/${name}/`), `${name} from the image`);
    t.same(out.clients, ['function', 'function', 'function', 'function', 'function']);
    t.equal(out.sent, 'ECONNREFUSED', 'the request got as far as the network');
  });

  t.test(`${runtime}: an ES module handler imports them too (ES modules ignore NODE_PATH)`, async (t) => {
    const out = await invoke(t, runtime, 'aws-sdk/bundled', 'esm.handler');
    t.match(out.resolved, /^file:\/\/\/var\/(runtime\/)?node_modules\/@aws-sdk\/client-lambda\//);
    t.same(out.clients, Array(7).fill('function'));
    t.equal(out.endpoint, 'https://w1x2y3.execute-api.us-east-1.amazonaws.com/$default', 'the execute-api endpoint form as the SDK keeps it');
  });

  t.test(`${runtime}: a zip's own @aws-sdk/client-lambda wins, for require and import`, async (t) => {
    const cjs = await invoke(t, runtime, 'aws-sdk/own', 'index.handler');
    t.same(cjs, { ownCopy: true, version: '3.0.0-own', s3: 'function' }, 'its own client-lambda; client-s3, which it lacks, from the image');
    const esm = await invoke(t, runtime, 'aws-sdk/own', 'esm.handler');
    t.same(esm, { ownCopy: true, resolved: 'file:///var/task/node_modules/@aws-sdk/client-lambda/index.js', s3: 'function' });
  });
}

for (const runtime of PYTHON_IMAGES) {
  t.test(`${runtime}: a handler imports the bundled boto3 and makes an apigatewaymanagementapi client`, async (t) => {
    const out = await invoke(t, runtime, 'boto3/bundled', 'app.handler');
    t.match(out.boto3, /^1\.\d+\.\d+/);
    t.match(out.file, /^\/usr\/lib\/python3\/dist-packages\/boto3\//, "Debian's python3-boto3");
    t.equal(out.endpoint, 'https://w1x2y3.execute-api.us-east-1.amazonaws.com/$default');
    t.same(out.operations, ['delete_connection', 'get_connection', 'post_to_connection']);
    t.same(out.services, ['lambda', 's3', 'sqs', 'dynamodb']);
  });

  t.test(`${runtime}: a boto3 vendored in the zip wins`, async (t) => {
    t.same(await invoke(t, runtime, 'boto3/own', 'app.handler'), { boto3: '0.0.0-own', file: '/var/task/boto3/__init__.py' });
  });
}
