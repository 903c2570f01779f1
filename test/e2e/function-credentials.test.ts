// Function credentials (issue 15 §4) on a real stack: a function's environment holds
// AWS_ACCESS_KEY_ID/SECRET/SESSION_TOKEN and no Gantry configuration; with them the AWS SDK's
// ApiGatewayManagementApi client reaches the gateway's @connections (SigV4, execute-api) and
// posts to a WebSocket client; an environment never outlives them (a short TTL gives every call a
// new environment), and once expired they are refused.
import t from 'tap';
import WebSocket from 'ws';
import { ApiGatewayManagementApiClient, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { deployFunction, eventually, startStack } from '../support/stack.js';
import { nodeZip } from '../support/zip.js';

const TTL_MS = 1_000;
const stack = await startStack(t, { env: { GANTRY_FUNCTION_CREDENTIALS_TTL_MS: String(TTL_MS), GANTRY_STEM_CELL_RUNTIMES: 'nodejs20' } });

const WHOAMI = `exports.handler = async (event) => ({ statusCode: 200, body: JSON.stringify({
  connectionId: event.requestContext.connectionId,
  keys: Object.keys(process.env).sort(),
  creds: { accessKeyId: process.env.AWS_ACCESS_KEY_ID, secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY, sessionToken: process.env.AWS_SESSION_TOKEN },
}) });`;

interface Reply {
  connectionId: string;
  keys: string[];
  creds: { accessKeyId: string; secretAccessKey: string; sessionToken: string };
}

/** A connected client and its messages, in order. */
async function connect(url: string): Promise<{ ws: WebSocket; next: () => Promise<string> }> {
  const ws = new WebSocket(url);
  const queue: string[] = [];
  const waiters: ((m: string) => void)[] = [];
  ws.on('message', (d: Buffer) => {
    const w = waiters.shift();
    if (w) w(d.toString('utf8'));
    else queue.push(d.toString('utf8'));
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`handshake ${res.statusCode}`)));
  });
  t.teardown(() => ws.close());
  const next = () =>
    new Promise<string>((resolve, reject) => {
      const queued = queue.shift();
      if (queued !== undefined) return resolve(queued);
      const timer = setTimeout(() => reject(new Error('no message within 30 s')), 30_000);
      waiters.push((m) => {
        clearTimeout(timer);
        resolve(m);
      });
    });
  return { ws, next };
}

function management(creds: Reply['creds']) {
  return new ApiGatewayManagementApiClient({ endpoint: `${stack.gatewayUrl}/chat`, region: 'us-east-1', credentials: creds, maxAttempts: 1 });
}

const wsUrl = `${stack.gatewayUrl.replace(/^http/, 'ws')}/chat`;
let c!: Awaited<ReturnType<typeof connect>>;
let first!: Reply;

await t.test('sets up a websocket API whose function reports its environment', async (t) => {
  await deployFunction(t, stack, 'whoami', nodeZip(WHOAMI), { timeoutMs: 5000, environment: { OWN: 'yes' } });
  t.equal((await stack.admin('POST', '/v1/apis', { name: 'chat', protocol: 'websocket' })).status, 201);
  t.equal((await stack.admin('POST', '/v1/apis/chat/routes', { routeKey: '$default', function: 'whoami', routeResponseSelectionExpression: '$default' })).status, 201);
  let client: Awaited<ReturnType<typeof connect>> | undefined;
  t.ok(await eventually(async () => (client = await connect(wsUrl).catch(() => undefined)) !== undefined, 10_000, 100), 'the API is served');
  c = client as NonNullable<typeof client>;
  // The API can be served a moment before its route is: ask until the function answers.
  let text = '';
  t.ok(
    await eventually(async () => {
      c.ws.send('first');
      text = await c.next();
      return text.includes('"creds"');
    }, 60_000, 100),
    `the function answered with its environment: ${text.slice(0, 200)}`,
  );
  first = JSON.parse(text) as Reply;
});

t.test("the environment holds the function's credentials and no Gantry configuration", async (t) => {
  t.match(first.creds.accessKeyId, /^ASIA[A-Z2-7]{16}$/);
  t.equal(first.creds.secretAccessKey.length, 40);
  t.match(first.creds.sessionToken, /^GFC1\./);
  t.ok(first.keys.includes('OWN'), "the function's own variable is there");
  const gantry = first.keys.filter((k) => k.startsWith('GANTRY_'));
  t.strictSame(gantry, ['GANTRY_CONNECTIONS_TOKEN', 'GANTRY_CONNECTIONS_URL'].filter((k) => gantry.includes(k)), 'no Gantry variable beyond the documented @connections pair');
  for (const k of ['DATABASE_URL', 'REDIS_URL', 'DOCKER_HOST', 'GANTRY_ADMIN_TOKEN', 'GANTRY_INTERNAL_TOKEN', 'GANTRY_ENCRYPTION_KEY_FILE']) t.notOk(first.keys.includes(k), `${k} is not there`);
  t.strictSame(first.keys.filter((k) => /^AWS_(ACCESS|SECRET|SESSION)/.test(k)), ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN']);
});

t.test('with them the SDK posts to the connection through @connections (SigV4, execute-api)', async (t) => {
  await management(first.creds).send(new PostToConnectionCommand({ ConnectionId: first.connectionId, Data: Buffer.from('signed hello') }));
  t.equal(await c.next(), 'signed hello');
  const forged = { ...first.creds, secretAccessKey: 'x'.repeat(40) };
  const refused = await management(forged).send(new PostToConnectionCommand({ ConnectionId: first.connectionId, Data: Buffer.from('no') })).then(
    () => undefined,
    (e: { name: string; $metadata?: { httpStatusCode?: number } }) => e,
  );
  t.equal(refused?.name, 'InvalidSignatureException');
  t.equal(refused?.$metadata?.httpStatusCode, 403);
  const bearer = await fetch(`${stack.gatewayUrl}/chat/@connections/${encodeURIComponent(first.connectionId)}`, { method: 'POST', body: 'by token', headers: { authorization: `Bearer ${stack.token}` } });
  t.equal(bearer.status, 200, 'the admin token still works');
  t.equal(await c.next(), 'by token');
});

t.test('a short TTL: the next call runs in a new environment with new credentials; old ones expire and are refused', async (t) => {
  let text = '';
  t.ok(
    await eventually(async () => {
      c.ws.send('second');
      text = await c.next();
      return text.includes('"creds"');
    }, 60_000, 100),
    'the second call answered',
  );
  const second = JSON.parse(text) as Reply;
  t.not(second.creds.accessKeyId, first.creds.accessKeyId, 'a new environment, new credentials');
  const claims = JSON.parse(Buffer.from(first.creds.sessionToken.split('.')[1] as string, 'base64url').toString('utf8')) as { e: number; t: string; f: string };
  t.match(claims, { t: 'default', f: 'whoami' });
  t.ok(claims.e - Date.now() < 60_000, 'they expire within the TTL (or timeout + slack)');
  t.ok(await eventually(async () => Date.now() > claims.e, 30_000, 100), 'the first credentials have expired');
  const expired = await management(first.creds).send(new PostToConnectionCommand({ ConnectionId: first.connectionId, Data: Buffer.from('late') })).then(
    () => undefined,
    (e: { name: string; $metadata?: { httpStatusCode?: number } }) => e,
  );
  t.equal(expired?.name, 'ExpiredTokenException');
  t.equal(expired?.$metadata?.httpStatusCode, 403);
});

t.test('a stem cell bound to a function gets its credentials at binding', async (t) => {
  await deployFunction(t, stack, 'envdump', nodeZip(`exports.handler = async () => ({ id: process.env.AWS_ACCESS_KEY_ID ?? null, token: process.env.AWS_SESSION_TOKEN ?? null });`));
  let kind: string | null = null;
  let body: { id: string | null; token: string | null } = { id: null, token: null };
  // Each call under this TTL needs a new environment: asked until one of them is a stem cell.
  t.ok(
    await eventually(async () => {
      const r = await stack.admin('POST', '/v1/functions/envdump/invoke', {});
      kind = r.headers.get('x-gantry-cold-start-kind');
      body = (await r.json()) as typeof body;
      return kind === 'stem-cell';
    }, 30_000, 200),
    'a call served by a stem cell',
  );
  t.match(body.id, /^ASIA[A-Z2-7]{16}$/);
  const claims = JSON.parse(Buffer.from(String(body.token).split('.')[1] as string, 'base64url').toString('utf8')) as { f: string };
  t.equal(claims.f, 'envdump', "the credentials name the bound function, not the cell's");
});
