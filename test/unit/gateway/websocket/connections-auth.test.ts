// SigV4 on @connections: function credentials of the API's tenant pass, another tenant's do not.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import pino from 'pino';
import { ApiGatewayManagementApiClient, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import type { Pool } from '../../../../common/db.js';
import { FunctionCredentialIssuer } from '../../../../common/sigv4/function-credentials.js';
import type { SignedRequest } from '../../../../common/sigv4/sigv4-verifier.js';
import { ConnectionsAuth, isSigV4 } from '../../../../gateway/websocket/connections-auth.js';

const INTERNAL = 'i'.repeat(43);

async function signedPost(creds: { accessKeyId: string; secretAccessKey: string; sessionToken: string }): Promise<SignedRequest> {
  let got: SignedRequest | undefined;
  const srv = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      got = { method: req.method ?? 'POST', path: req.url ?? '/', query: '', headers: req.headers, body: Buffer.concat(chunks) };
      res.end();
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const endpoint = `http://127.0.0.1:${(srv.address() as AddressInfo).port}/chat`;
  await new ApiGatewayManagementApiClient({ endpoint, region: 'us-east-1', credentials: creds, maxAttempts: 1 }).send(new PostToConnectionCommand({ ConnectionId: 'abc=', Data: Buffer.from('x') }));
  await new Promise((r) => srv.close(r));
  if (!got) throw new Error('nothing arrived');
  return got;
}

t.test('verifySigned: the API tenant only; an altered body or another internal token fails', async (t) => {
  const auth = new ConnectionsAuth({ pool: {} as Pool, internalToken: INTERNAL, region: 'us-east-1', logger: pino({ level: 'silent' }) }, 60_000);
  const creds = new FunctionCredentialIssuer(INTERNAL).issue({ tenant: 'acme', functionName: 'chat', expiresAtMs: Date.now() + 60_000 });
  const req = await signedPost(creds);
  t.ok(isSigV4(req.headers.authorization));
  t.notOk(isSigV4('Bearer abc'));
  t.equal(await auth.verifySigned(req, 'acme'), undefined, "the API's tenant passes");
  t.match(await auth.verifySigned(req, 'default'), { code: 'InvalidSignatureException', message: /not valid for this API/ }, "another tenant's API refuses");
  t.match(await auth.verifySigned({ ...req, body: Buffer.from('y') }, 'acme'), { code: 'InvalidSignatureException' });
  const other = new FunctionCredentialIssuer('o'.repeat(43)).issue({ tenant: 'acme', functionName: 'chat', expiresAtMs: Date.now() + 60_000 });
  t.match(await auth.verifySigned(await signedPost(other), 'acme'), { code: 'UnrecognizedClientException' });
});
