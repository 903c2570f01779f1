// Network isolation attacked by hostile functions on the real engine and the host's firewall:
// function A tries function B's listening port at B's container address, and the control
// plane's and gateway's ports at the bridge's gateway address and at another address of the
// host. Only the gateway's port answers (the default opening). A still reaches an address
// outside the bridge: a listener in a network namespace this test creates (with a veth pair).
import { spawn, execFile } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import net from 'node:net';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import t from 'tap';
import type { Test } from 'tap';
import { deployFunction, startStack } from '../support/stack.js';
import { nodeZip } from '../support/zip.js';

const run = promisify(execFile);

/** Connects, optionally sends, and reports what came back; every attempt is bounded. */
const PROBER = `const net = require('net');
exports.handler = async (e) => new Promise((resolve) => {
  let data = '';
  const s = net.connect({ host: e.host, port: e.port });
  const timer = setTimeout(() => { s.destroy(); resolve({ ok: false, error: 'timeout', data }); }, e.timeoutMs);
  const done = (r) => { clearTimeout(timer); resolve(r); };
  s.on('connect', () => { if (e.send) s.write(e.send); });
  s.on('data', (d) => { data += d; });
  s.on('error', (err) => done({ ok: false, error: err.code, data }));
  s.on('end', () => { s.destroy(); done({ ok: true, data }); });
});`;

/** Listens on :8081 for as long as its container lives; says where, and that it answers itself. */
const LISTENER = `const net = require('net'); const os = require('os');
const server = net.createServer((s) => s.end('from-b'));
const listening = new Promise((r) => server.listen(8081, '0.0.0.0', r));
exports.handler = async () => {
  await listening;
  const ip = Object.values(os.networkInterfaces()).flat().find((a) => a.family === 'IPv4' && !a.internal).address;
  const self = await new Promise((resolve) => {
    let data = '';
    const s = net.connect({ host: ip, port: 8081 });
    s.on('data', (d) => { data += d; });
    s.on('end', () => resolve(data));
    s.on('error', (e) => resolve(e.code));
  });
  return { ip, self };
};`;

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

// Both processes listen on all addresses, so the bridge's gateway address would answer were it not
// for the firewall; the gateway's port is the one GANTRY_PUBLIC_URL names.
const gatewayPort = await freePort();
const stack = await startStack(t, {
  ownFunctionNetwork: true,
  env: { GANTRY_BIND_HOST: '0.0.0.0', GANTRY_PUBLIC_URL: `http://127.0.0.1:${gatewayPort}` },
  gatewayEnv: [{ GANTRY_GATEWAY_PORT: String(gatewayPort) }],
});
const controlPlanePort = Number(new URL(stack.controlPlaneUrl).port);
const docker = new Docker();
const bridgeIp = ((await docker.getNetwork(stack.functionNetwork).inspect()) as { IPAM: { Config: { Gateway: string }[] } }).IPAM.Config[0]?.Gateway as string;

interface Probe {
  ok: boolean;
  error?: string;
  data: string;
}
async function probe(t: Test, host: string, port: number, send?: string, timeoutMs = 2_000): Promise<Probe> {
  const r = await fetch(`${stack.controlPlaneUrl}/v1/functions/prober/invoke`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ host, port, send, timeoutMs }),
    signal: AbortSignal.timeout(60_000),
  });
  t.equal(r.status, 200, `the probe of ${host}:${port} ran`);
  return (await r.json()) as Probe;
}
const HTTP_GET = (p: string) => `GET ${p} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n`;

/** A listener in a network namespace of this test, behind a veth pair: "the outside world". */
async function outsideListener(): Promise<{ address: string; hostSide: string; port: number }> {
  const id = randomBytes(4).toString('hex');
  const ns = `gnt-${id}`;
  const hostIf = `gv${id}h`;
  const nsIf = `gv${id}n`;
  const subnet = randomInt(0, 256);
  const hostSide = `198.18.${subnet}.1`;
  const address = `198.18.${subnet}.2`;
  const port = 8082;
  const ip = (...args: string[]) => run('ip', args);
  t.teardown(async () => {
    await ip('netns', 'del', ns).catch(() => undefined);
    await ip('link', 'del', hostIf).catch(() => undefined);
  });
  await ip('netns', 'add', ns);
  await ip('link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf);
  await ip('link', 'set', nsIf, 'netns', ns);
  await ip('addr', 'add', `${hostSide}/30`, 'dev', hostIf);
  await ip('link', 'set', hostIf, 'up');
  await ip('netns', 'exec', ns, 'ip', 'addr', 'add', `${address}/30`, 'dev', nsIf);
  await ip('netns', 'exec', ns, 'ip', 'link', 'set', nsIf, 'up');
  await ip('netns', 'exec', ns, 'ip', 'route', 'add', 'default', 'via', hostSide);
  const script = `require('net').createServer((s) => s.end('from-outside')).listen(${port}, '${address}', () => console.log('listening'));`;
  // env -u: the test runner's import hooks in NODE_OPTIONS have no business in the listener.
  const child = spawn('ip', ['netns', 'exec', ns, '/usr/bin/env', '-u', 'NODE_OPTIONS', process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => {
    child.kill('SIGKILL');
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the outside listener did not start within 10 s')), 10_000);
    child.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('listening')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`the outside listener exited (${code})`)));
  });
  return { address, hostSide, port };
}

await t.test('setup: /readyz shows an isolated network and the firewall in place', async (t) => {
  const ready = (await (await fetch(`${stack.controlPlaneUrl}/readyz`)).json()) as { isolation: Record<string, unknown> };
  t.same(ready.isolation, { functionNetwork: true, functionFirewall: true });
  await deployFunction(t, stack, 'prober', nodeZip(PROBER));
  await deployFunction(t, stack, 'listener', nodeZip(LISTENER));
});

await t.test('a function cannot reach another function by its container address', async (t) => {
  const r = await fetch(`${stack.controlPlaneUrl}/v1/functions/listener/invoke`, { method: 'POST', headers: { authorization: `Bearer ${stack.token}` }, body: '{}', signal: AbortSignal.timeout(60_000) });
  t.equal(r.status, 200);
  const b = (await r.json()) as { ip: string; self: string };
  t.equal(b.self, 'from-b', "B's listener answers (from inside B)");
  const got = await probe(t, b.ip, 8081);
  t.equal(got.ok, false, `A cannot connect to B at ${b.ip}:8081 (${got.error})`);
  t.equal(got.data, '', 'and reads nothing of B');
});

await t.test("a function cannot reach the control plane's port on the host", async (t) => {
  // The control plane does listen there: the host reaches it.
  t.equal((await fetch(`http://${bridgeIp}:${controlPlanePort}/healthz`, { signal: AbortSignal.timeout(5_000) })).status, 200, 'the host reaches it');
  const started = Date.now();
  const got = await probe(t, bridgeIp, controlPlanePort, HTTP_GET('/readyz'));
  t.equal(got.ok, false, `refused at the bridge address (${got.error})`);
  t.equal(got.error, 'ECONNREFUSED', 'refused at once, not left to time out');
  t.ok(Date.now() - started < 10_000, 'within a short bound');
  t.equal(got.data, '');
});

await t.test("the gateway's port answers (the default opening, for @connections)", async (t) => {
  const got = await probe(t, bridgeIp, gatewayPort, HTTP_GET('/healthz'));
  t.equal(got.ok, true, `connected (${got.error ?? 'no error'})`);
  t.match(got.data, /^HTTP\/1\.1 200/, 'and the gateway answered');
});

await t.test('outside the bridge: reachable, while the host behind it is not', async (t) => {
  const outside = await outsideListener();
  const got = await probe(t, outside.address, outside.port);
  t.same(got, { ok: true, data: 'from-outside' }, `A reaches ${outside.address}:${outside.port}, forwarded by the host`);
  const host = await probe(t, outside.hostSide, controlPlanePort, HTTP_GET('/readyz'));
  t.equal(host.ok, false, `the host's own address ${outside.hostSide} refuses the control plane's port (${host.error})`);
});
