// The firewall's rule set and its bookkeeping, against a recording iptables: what a node adds,
// that it deletes only rules carrying its own comment, and which failures count.
import t from 'tap';
import { FIREWALL_CHAIN, IptablesFunctionFirewall, NAT_CHAIN, ownRules, ruleComment, type IptablesRunner } from '../../../../control-plane/containers/function-firewall.js';

const scope = { network: 'gantry-functions', nodeId: 'node-a' };

/** A chain held as `-S` lines; -A/-I/-D/-N/-C/-S behave as iptables does for exact rules. */
function fakeIptables(opts: { failing?: readonly string[] } = {}) {
  const chains = new Map<string, string[]>();
  const calls: string[] = [];
  const runner: IptablesRunner = async (bin, allArgs) => {
    calls.push(`${bin} ${allArgs.join(' ')}`);
    if (opts.failing?.includes(bin)) throw new Error(`${bin}: not found`);
    // `-t nat` names the nat table; its chains are kept apart from the filter table's.
    const table = allArgs[0] === '-t' ? `${allArgs[1]}/` : '';
    const args = table === '' ? allArgs : allArgs.slice(2);
    const [op, chain = '', ...rest] = args;
    const key = `${bin}/${table}${chain}`;
    const rule = (words: readonly string[]) => `-A ${chain} ${words.map((w) => (w.includes(':') ? `"${w}"` : w)).join(' ')}`;
    const list = chains.get(key);
    switch (op) {
      case '-S':
        if (!list && chain !== 'INPUT' && chain !== 'PREROUTING') throw new Error('No chain/target/match by that name.');
        return [`-N ${chain}`, ...(list ?? [])].join('\n');
      case '-N':
        if (list) throw new Error('Chain already exists.');
        chains.set(key, []);
        return '';
      case '-C':
        if (!(list ?? []).includes(rule(rest))) throw new Error('Bad rule');
        return '';
      case '-A':
        chains.set(key, [...(list ?? []), rule(rest)]);
        return '';
      case '-I': {
        const next = [...(list ?? [])];
        next.splice(Number(rest[0]) - 1, 0, rule(rest.slice(1)));
        chains.set(key, next);
        return '';
      }
      case '-D': {
        const at = (list ?? []).indexOf(rule(rest));
        if (at < 0) throw new Error('Bad rule (does a matching rule exist in that chain?).');
        list?.splice(at, 1);
        return '';
      }
      default:
        throw new Error(`unexpected ${op}`);
    }
  };
  return {
    runner,
    calls,
    chain: (bin = 'iptables') => chains.get(`${bin}/${FIREWALL_CHAIN}`) ?? [],
    input: (bin = 'iptables') => chains.get(`${bin}/INPUT`) ?? [],
    nat: (bin = 'iptables') => chains.get(`${bin}/nat/${NAT_CHAIN}`) ?? [],
    prerouting: (bin = 'iptables') => chains.get(`${bin}/nat/PREROUTING`) ?? [],
  };
}

t.test('install: replies and openings on top, refusals at the end, one jump from INPUT', async (t) => {
  const ipt = fakeIptables();
  const fw = new IptablesFunctionFirewall(ipt.runner);
  await fw.install({ ...scope, bridge: 'br-1', allowTcpPorts: [8080, 8080] });
  const rules = [...ipt.chain()];
  t.equal(rules.length, 4, 'the duplicate port counted once');
  t.match(rules[0], /-i br-1 -m conntrack --ctstate ESTABLISHED,RELATED .* -j RETURN$/);
  t.match(rules[1], /-i br-1 -p tcp --dport 8080 .* -j RETURN$/);
  t.match(rules[2], /-i br-1 -p tcp .* -j REJECT --reject-with tcp-reset$/);
  t.match(rules[3], /-i br-1 .* -j REJECT$/);
  t.ok(rules.every((r) => r.includes(`"${ruleComment(scope)}"`)), 'every rule names its network and node');
  t.equal(ipt.input().length, 1);
  t.same(ipt.chain('ip6tables'), rules, 'IPv6 gets the same');

  await fw.install({ ...scope, bridge: 'br-1', allowTcpPorts: [8080] });
  t.same(ipt.chain(), rules, 'a second install leaves the same rules');
  t.equal(ipt.input().length, 1, 'and one jump');
});

t.test("a node deletes only its own rules; others' keep their place", async (t) => {
  const ipt = fakeIptables();
  const fw = new IptablesFunctionFirewall(ipt.runner);
  const b = { network: scope.network, nodeId: 'node-b' };
  const other = { network: 'other-net', nodeId: scope.nodeId };
  await fw.install({ ...scope, bridge: 'br-1', allowTcpPorts: [8080] });
  await fw.install({ ...b, bridge: 'br-1', allowTcpPorts: [8081] });
  await fw.install({ ...other, bridge: 'br-2', allowTcpPorts: [] });
  const rules = ipt.chain();
  const lastReturn = Math.max(...rules.map((r, i) => (r.endsWith('-j RETURN') ? i : -1)));
  const firstReject = rules.findIndex((r) => r.includes('-j REJECT'));
  t.ok(lastReturn < firstReject, 'no refusal shadows any opening');
  await fw.remove(scope);
  t.notOk(ipt.chain().some((r) => r.includes(`"${ruleComment(scope)}"`)), "node a's rules are gone");
  t.equal(ipt.chain().filter((r) => r.includes(`"${ruleComment(b)}"`)).length, 4);
  t.equal(ipt.chain().filter((r) => r.includes(`"${ruleComment(other)}"`)).length, 3, 'the same node on another network keeps its rules');
  await fw.remove(scope);
  t.pass('a second remove is fine');
});

t.test('IPv4 failing fails the install; IPv6 failing does not', async (t) => {
  await t.rejects(new IptablesFunctionFirewall(fakeIptables({ failing: ['iptables'] }).runner).install({ ...scope, bridge: 'br-1', allowTcpPorts: [] }));
  const ipt = fakeIptables({ failing: ['ip6tables'] });
  await new IptablesFunctionFirewall(ipt.runner).install({ ...scope, bridge: 'br-1', allowTcpPorts: [] });
  t.equal(ipt.chain().length, 3);
  await t.resolves(new IptablesFunctionFirewall(ipt.runner).remove(scope));
});

t.test('ownRules reads iptables -S output', async (t) => {
  const listing = [
    `-N ${FIREWALL_CHAIN}`,
    `-A ${FIREWALL_CHAIN} -i br-1 -p tcp -m tcp --dport 80 -m comment --comment "gantry:n:a" -j RETURN`,
    `-A ${FIREWALL_CHAIN} -i br-1 -m comment --comment "gantry:n:ab" -j REJECT --reject-with icmp-port-unreachable`,
    `-A INPUT -m comment --comment "gantry:n:a" -j ACCEPT`,
  ].join('\n');
  t.same(ownRules(listing, 'gantry:n:a'), [[FIREWALL_CHAIN, '-i', 'br-1', '-p', 'tcp', '-m', 'tcp', '--dport', '80', '-m', 'comment', '--comment', 'gantry:n:a', '-j', 'RETURN']]);
});

t.test('forwardHttps: one DNAT rule per node for https to the bridge address, opened and removed with the rest', async (t) => {
  const ipt = fakeIptables();
  const fw = new IptablesFunctionFirewall(ipt.runner);
  const rules = { ...scope, bridge: 'br-1', allowTcpPorts: [8080, 8443], forwardHttps: { address: '172.18.0.1', toPort: 8443 } };
  await fw.install(rules);
  t.same(ipt.nat(), [`-A ${NAT_CHAIN} -i br-1 -d 172.18.0.1/32 -p tcp --dport 443 -m comment --comment "${ruleComment(scope)}" -j DNAT --to-destination "172.18.0.1:8443"`]);
  t.equal(ipt.prerouting().length, 1, 'one jump from PREROUTING');
  t.ok(ipt.chain().some((r) => r.includes('--dport 8443') && r.endsWith('-j RETURN')), 'the filter chain opens the listener port');
  t.notOk(ipt.nat('ip6tables').length, 'IPv4 only');
  await fw.install({ ...scope, nodeId: 'node-b', bridge: 'br-1', allowTcpPorts: [], forwardHttps: { address: '172.18.0.1', toPort: 9443 } });
  await fw.install(rules);
  t.equal(ipt.nat().length, 2, 'installing again replaces this node\'s rule, and keeps the other node\'s');
  await fw.remove(scope);
  t.equal(ipt.nat().length, 1);
  t.match(ipt.nat()[0], /node-b/);
  t.equal(ipt.prerouting().length, 1, 'the jump stays');
});

t.test('no forwardHttps: the nat table is never written', async (t) => {
  const ipt = fakeIptables();
  await new IptablesFunctionFirewall(ipt.runner).install({ ...scope, bridge: 'br-1', allowTcpPorts: [8080] });
  t.notOk(ipt.calls.some((c) => /-t nat -[AIN] /.test(c)), 'no nat rule or chain made');
  t.same(ipt.nat(), []);
});
