// GANTRY_FUNCTIONS_REACH_GATEWAY=false: the gateway's port on the host is refused to functions
// like every other port of the host.
import net from 'node:net';
import Docker from 'dockerode';
import t from 'tap';
import { deployFunction, startStack } from '../support/stack.js';
import { nodeZip } from '../support/zip.js';

const PROBER = `const net = require('net');
exports.handler = async (e) => new Promise((resolve) => {
  const s = net.connect({ host: e.host, port: e.port });
  const timer = setTimeout(() => { s.destroy(); resolve({ ok: false, error: 'timeout'}); }, 2000);
  const done = (r) => { clearTimeout(timer); resolve(r); };
  s.on('connect', () => { s.destroy(); done({ ok: true }); });
  s.on('error', (err) => done({ ok: false, error: err.code }));
});`;

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

const gatewayPort = await freePort();
const stack = await startStack(t, {
  ownFunctionNetwork: true,
  env: { GANTRY_BIND_HOST: '0.0.0.0', GANTRY_PUBLIC_URL: `http://127.0.0.1:${gatewayPort}`, GANTRY_FUNCTIONS_REACH_GATEWAY: 'false' },
  gatewayEnv: [{ GANTRY_GATEWAY_PORT: String(gatewayPort) }],
});
const bridgeIp = ((await new Docker().getNetwork(stack.functionNetwork).inspect()) as { IPAM: { Config: { Gateway: string }[] } }).IPAM.Config[0]?.Gateway as string;

t.test("the gateway's port is refused", async (t) => {
  await deployFunction(t, stack, 'prober', nodeZip(PROBER));
  t.equal((await fetch(`http://${bridgeIp}:${gatewayPort}/healthz`, { signal: AbortSignal.timeout(5_000) })).status, 200, 'the host reaches the gateway there');
  const r = await fetch(`${stack.controlPlaneUrl}/v1/functions/prober/invoke`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.token}` },
    body: JSON.stringify({ host: bridgeIp, port: gatewayPort }),
    signal: AbortSignal.timeout(60_000),
  });
  t.equal(r.status, 200);
  const got = (await r.json()) as { ok: boolean; error?: string };
  t.equal(got.ok, false, `refused (${got.error})`);
  t.equal(got.error, 'ECONNREFUSED', 'at once');
});
