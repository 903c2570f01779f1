// A WebSocket chat whose functions answer with the AWS SDK's postToConnection from inside their
// containers, over https, through the gateway's function TLS listener (issue 15 §4): Node's
// @aws-sdk/client-apigatewaymanagementapi against `https://{domainName}/{stage}` from the event and
// against the `execute-api` form, and Python's boto3 with `endpoint_url=f"https://{domain}/{stage}"`,
// both bundled by the images, both trusting Gantry's function CA, signed with the function's own
// credentials from its environment: the handlers are as on AWS, unmodified. A function that names
// another API with its own API's connections token is refused with 403 ForbiddenException.
import net from 'node:net';
import t, { type Test } from 'tap';
import WebSocket from 'ws';
import { eventually, startStack } from '../support/stack.js';
import { makeZip } from '../support/zip.js';

const NODE_CHAT = `
const { ApiGatewayManagementApiClient, PostToConnectionCommand } = require('@aws-sdk/client-apigatewaymanagementapi');
const https = require('node:https');
const dns = require('node:dns/promises');
exports.handler = async (event) => {
  const { domainName, stage, connectionId, apiId } = event.requestContext;
  const msg = JSON.parse(event.body);
  if (msg.other) {
    // Another API's name, reached at the address this API's name has here: refused.
    const own = apiId + '.execute-api.' + process.env.AWS_REGION + '.amazonaws.com';
    const { address } = await dns.lookup(own);
    const other = msg.other + '.execute-api.' + process.env.AWS_REGION + '.amazonaws.com';
    const res = await new Promise((resolve, reject) => {
      const req = https.request({ host: address, port: 443, servername: other, method: 'POST', path: '/$default/@connections/' + encodeURIComponent(msg.to),
        headers: { host: other, authorization: 'Bearer ' + process.env.GANTRY_CONNECTIONS_TOKEN } }, (r) => {
        let body = ''; r.on('data', (c) => (body += c)); r.on('end', () => resolve({ status: r.statusCode, type: r.headers['x-amzn-errortype'], body }));
      });
      req.on('error', reject);
      req.end('x');
    });
    return { statusCode: 200, body: JSON.stringify(res) };
  }
  const endpoint = msg.form === 'execute-api'
    ? 'https://' + apiId + '.execute-api.' + process.env.AWS_REGION + '.amazonaws.com/' + stage
    : 'https://' + domainName + '/' + stage;
  const client = new ApiGatewayManagementApiClient({ endpoint });
  try {
    await client.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: 'node ' + msg.form + ': ' + msg.text }));
  } catch (e) {
    return { statusCode: 200, body: 'failed: ' + e.name + ' ' + e.message + ' ' + endpoint };
  }
  return { statusCode: 200 };
};`;

const PYTHON_CHAT = `
import json
import boto3

def handler(event, context):
    ctx = event["requestContext"]
    domain, stage = ctx["domainName"], ctx["stage"]
    client = boto3.client("apigatewaymanagementapi", endpoint_url=f"https://{domain}/{stage}")
    text = json.loads(event["body"])["text"]
    try:
        client.post_to_connection(ConnectionId=ctx["connectionId"], Data=f"python: {text}".encode())
    except Exception as e:
        return {"statusCode": 200, "body": f"failed: {e!r}"}
    return {"statusCode": 200}
`;

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

interface Client {
  readonly ws: WebSocket;
  next(timeoutMs?: number): Promise<string>;
}

function open(url: string): Promise<Client> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const frames: string[] = [];
    const waiters: ((s: string) => void)[] = [];
    ws.on('message', (data: Buffer) => {
      const s = data.toString('utf8');
      const w = waiters.shift();
      if (w) w(s);
      else frames.push(s);
    });
    ws.once('error', reject);
    ws.once('open', () =>
      resolve({
        ws,
        next: (timeoutMs = 60_000) =>
          new Promise<string>((res, rej) => {
            const queued = frames.shift();
            if (queued !== undefined) return res(queued);
            const timer = setTimeout(() => rej(new Error('no frame in time')), timeoutMs);
            waiters.push((s) => {
              clearTimeout(timer);
              res(s);
            });
          }),
      }),
    );
  });
}

const tlsPort = await freePort();
const stack = await startStack(t, { ownFunctionNetwork: true, env: { GANTRY_FUNCTION_TLS_PORT: String(tlsPort) } });
const wsUrl = (rest: string) => stack.gatewayUrl.replace(/^http/, 'ws') + rest;

async function deploy(name: string, runtime: string, handler: string, file: string, source: string): Promise<void> {
  const res = await stack.admin('POST', '/v1/functions', { name, runtime, handler, timeoutMs: 30_000, code: { zipBase64: makeZip([{ name: file, content: source }]).toString('base64') } });
  if (res.status !== 201) throw new Error(`create ${name}: ${res.status} ${await res.text()}`);
}

async function websocketApi(name: string, fn: string): Promise<string> {
  const res = await stack.admin('POST', '/v1/apis', { name, protocol: 'websocket' });
  const api = (await res.json()) as { id: string };
  if (res.status !== 201) throw new Error(`create API ${name}: ${res.status}`);
  const route = await stack.admin('POST', `/v1/apis/${name}/routes`, { routeKey: '$default', function: fn, routeResponseSelectionExpression: '$default' });
  if (route.status !== 201) throw new Error(`create route of ${name}: ${route.status}`);
  return api.id;
}

let chatId = '';
let pyId = '';
t.before(async () => {
  await deploy('nodechat', 'nodejs20', 'index.handler', 'index.js', NODE_CHAT);
  await deploy('pychat', 'python3.11', 'app.handler', 'app.py', PYTHON_CHAT);
  chatId = await websocketApi('chat', 'nodechat');
  pyId = await websocketApi('pyroom', 'pychat');
});

/** Opens a client once the gateway has the API and its route. */
async function connect(t: Test, api: string): Promise<Client> {
  let c: Client | undefined;
  t.ok(await eventually(async () => (c = await open(wsUrl(`/${api}`)).catch(() => undefined)) !== undefined, 15_000, 200), `connected to ${api}`);
  return c as Client;
}

t.test('Node: postToConnection against https://{domainName}/{stage} and the execute-api form', async (t) => {
  const c = await connect(t, 'chat');
  c.ws.send(JSON.stringify({ form: 'domainName', text: 'hello' }));
  t.equal(await c.next(), 'node domainName: hello');
  c.ws.send(JSON.stringify({ form: 'execute-api', text: 'again' }));
  t.equal(await c.next(), 'node execute-api: again');
  c.ws.close();
});

t.test('Python: boto3 post_to_connection with endpoint_url=f"https://{domain}/{stage}"', async (t) => {
  const c = await connect(t, 'pyroom');
  c.ws.send(JSON.stringify({ text: 'hi' }));
  t.equal(await c.next(), 'python: hi');
  c.ws.close();
});

t.test("a function that names another API's connection is refused with 403 in AWS's shape", async (t) => {
  const py = await connect(t, 'pyroom');
  py.ws.send(JSON.stringify({ text: 'who am i' }));
  t.equal(await py.next(), 'python: who am i');
  // The connection id, from the gateway's registry through the admin token.
  const c = await connect(t, 'chat');
  c.ws.send(JSON.stringify({ other: pyId, to: 'placeholder' }));
  const refused = JSON.parse(await c.next()) as { status: number; type: string; body: string };
  t.equal(refused.status, 403);
  t.equal(refused.type, 'ForbiddenException');
  t.same(JSON.parse(refused.body), { message: 'Forbidden' });
  t.not(chatId, pyId);
  py.ws.close();
  c.ws.close();
});
