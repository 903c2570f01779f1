// The function network and the host firewall on the real engine and the host's iptables: a new
// network drops inter-container traffic; one Gantry made earlier without that is recreated while
// unused and kept (reported not isolated) while a container uses it; firewall rules are
// idempotent, per node, ordered so one node never shadows another's opening, and all removed.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import t from 'tap';
import { DockerContainerRuntime } from '../../control-plane/containers/docker/docker-container-runtime.js';
import { FIREWALL_CHAIN, IptablesFunctionFirewall, ruleComment } from '../../control-plane/containers/function-firewall.js';

const run = promisify(execFile);
const docker = new Docker();
const runtime = new DockerContainerRuntime({ dockerHost: undefined, callTimeoutMs: 30_000 });
const id = randomBytes(4).toString('hex');

const created: string[] = [];
t.teardown(async () => {
  for (const name of created) await docker.getNetwork(name).remove().catch(() => undefined);
});

const options = async (name: string) => ((await docker.getNetwork(name).inspect()) as { Id: string; Options: Record<string, string> });

t.test('a new function network drops traffic between its containers', async (t) => {
  const name = `gantry-test-net-${id}`;
  created.push(name);
  const net = await runtime.ensureNetwork(name, { 'gantry.managed': 'true', 'gantry.test': id });
  const info = await options(name);
  t.equal(info.Options['com.docker.network.bridge.enable_icc'], 'false');
  t.same(net, { bridge: `br-${info.Id.slice(0, 12)}`, isolated: true });
  t.same(await runtime.ensureNetwork(name, { 'gantry.managed': 'true' }), net, 'a second call changes nothing');
  t.equal((await options(name)).Id, info.Id);
});

t.test('an old managed network is made anew while unused, and kept while used', async (t) => {
  const name = `gantry-test-old-${id}`;
  created.push(name);
  const old = await docker.createNetwork({ Name: name, Driver: 'bridge', CheckDuplicate: true, Labels: { 'gantry.managed': 'true', 'gantry.test': id } });
  const user = await docker.createContainer({ Image: 'gantry/nodejs20', Entrypoint: ['sleep', '60'], Labels: { 'gantry.test': id }, HostConfig: { NetworkMode: name, AutoRemove: false } });
  t.teardown(() => user.remove({ force: true }).catch(() => undefined));
  await user.start();
  const kept = await runtime.ensureNetwork(name, { 'gantry.managed': 'true' });
  t.equal(kept.isolated, false, 'used: reported not isolated');
  t.equal((await options(name)).Id, old.id, 'used: not removed');
  await user.remove({ force: true });
  const made = await runtime.ensureNetwork(name, { 'gantry.managed': 'true' });
  t.equal(made.isolated, true, 'unused: isolated now');
  const info = await options(name);
  t.not(info.Id, old.id, 'made anew');
  t.equal(info.Options['com.docker.network.bridge.enable_icc'], 'false');
});

t.test('a network Gantry did not make is never removed', async (t) => {
  const name = `gantry-test-foreign-${id}`;
  created.push(name);
  const foreign = await docker.createNetwork({ Name: name, Driver: 'bridge', CheckDuplicate: true, Labels: { 'gantry.test': id } });
  t.equal((await runtime.ensureNetwork(name, { 'gantry.managed': 'true' })).isolated, false);
  t.equal((await options(name)).Id, foreign.id);
});

t.test('firewall rules: per node, idempotent, openings above refusals, all removed', async (t) => {
  const list = async (bin = 'iptables') => (await run(bin, ['-w', '5', '-S', FIREWALL_CHAIN])).stdout.split('\n').filter((l) => l.startsWith('-A '));
  const fw = new IptablesFunctionFirewall();
  // An interface name no bridge has: the rules are inert, and concern this test alone.
  const bridge = `gnt${id}`;
  const a = { network: `gantry-test-fw-${id}`, nodeId: 'node-a' };
  const b = { network: a.network, nodeId: 'node-b' };
  t.teardown(async () => {
    await fw.remove(a).catch(() => undefined);
    await fw.remove(b).catch(() => undefined);
  });
  const mine = async (scope: typeof a) => (await list()).filter((l) => l.includes(ruleComment(scope)));

  await fw.install({ ...a, bridge, allowTcpPorts: [18080] });
  const first = await mine(a);
  t.equal(first.length, 4, 'established, one port, two refusals');
  await fw.install({ ...a, bridge, allowTcpPorts: [18080] });
  t.same(await mine(a), first, 'installing again changes nothing');
  t.match((await run('iptables', ['-w', '5', '-S', 'INPUT'])).stdout, new RegExp(`-j ${FIREWALL_CHAIN}`), 'INPUT jumps to the chain');

  await fw.install({ ...b, bridge, allowTcpPorts: [18081] });
  const rules = (await list()).filter((l) => l.includes(`gantry:${a.network}:`));
  const lastOpening = Math.max(...rules.map((l, i) => (l.includes('-j RETURN') ? i : -1)));
  const firstRefusal = rules.findIndex((l) => l.includes('-j REJECT'));
  t.ok(lastOpening < firstRefusal, 'every opening of either node comes before any refusal');

  await fw.install({ ...a, bridge: `${bridge}x`, allowTcpPorts: [] });
  t.ok((await mine(a)).every((l) => l.includes(`${bridge}x`)), "a new bridge replaces the node's old rules");
  t.equal((await mine(a)).length, 3);

  await fw.remove(a);
  t.same(await mine(a), [], "node a's rules are gone");
  t.equal((await mine(b)).length, 4, "node b's are untouched");
  await fw.remove(b);
  t.same(await mine(b), []);
  await fw.remove(b);
  t.pass('removing twice is fine');
});
