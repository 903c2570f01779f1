/**
 * Host firewall rules that keep functions off the host's own ports: whatever arrives from the
 * function bridge for one of the host's addresses is refused, except replies and the ports a node
 * opens on purpose (its gateway's, so functions can call it as they would a public API). Traffic
 * the host forwards (to the outside world) is not touched.
 *
 * The rules live in one chain, GANTRY-FUNCTIONS, jumped to first from INPUT. Several nodes on one
 * host may share a function network, so every rule carries `gantry:<network>:<node>` in its
 * comment and a node only ever adds or deletes its own: openings go to the top of the chain and
 * refusals to its end, so one node's refusal never shadows another node's opening. The chain and
 * its jump stay when empty (they are inert then), because deleting them could race another node
 * adding its rules. Runs `iptables` (and `ip6tables`, best effort) at start and shutdown only.
 *
 * With the gateway's function TLS listener on, one more rule, in the nat table's
 * GANTRY-FUNCTIONS-DNAT chain (jumped to first from PREROUTING), forwards https that functions send
 * to the host's address on the bridge (port 443, where the API names in their /etc/hosts point) to
 * that listener's port, which the filter chain opens. IPv4 only: function networks are IPv4-only.
 * Nodes sharing a network each add theirs; the first in the chain answers, and any gateway serves
 * any connection (the relay finds its owner).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const FIREWALL_CHAIN = 'GANTRY-FUNCTIONS';
export const NAT_CHAIN = 'GANTRY-FUNCTIONS-DNAT';
const HTTPS_PORT = 443;
const JUMP_COMMENT = 'gantry:functions';

export interface FirewallScope {
  /** The Docker network's name and the node's id: together they name this node's rules. */
  readonly network: string;
  readonly nodeId: string;
}

export interface FirewallRules extends FirewallScope {
  /** The bridge's host interface (`br-…`). */
  readonly bridge: string;
  /** TCP ports on the host that functions may still open connections to. */
  readonly allowTcpPorts: readonly number[];
  /** https (port 443) to the host's `address` on the bridge goes to `toPort` (also in allowTcpPorts). */
  readonly forwardHttps?: { readonly address: string; readonly toPort: number } | undefined;
}

/** The seam the control plane uses; tests of the rest of the platform may pass their own. */
export interface FunctionFirewall {
  /** Replaces this node's rules for the network (idempotent). Rejects when the rules are not in place. */
  install(rules: FirewallRules): Promise<void>;
  /** Deletes this node's rules for the network; absent rules are fine. */
  remove(scope: FirewallScope): Promise<void>;
}

export type IptablesRunner = (bin: string, args: readonly string[]) => Promise<string>;

const defaultRunner: IptablesRunner = async (bin, args) => (await run(bin, ['-w', '5', ...args], { timeout: 15_000 })).stdout;

export function ruleComment(scope: FirewallScope): string {
  return `gantry:${scope.network}:${scope.nodeId}`;
}

/** Each rule as iptables arguments after the chain name, in the order install applies them. */
export function ruleSpecs(rules: FirewallRules): { readonly top: string[][]; readonly bottom: string[][] } {
  const tag = ['-m', 'comment', '--comment', ruleComment(rules)];
  const from = ['-i', rules.bridge];
  return {
    // Inserted at the top one by one, so the last inserted ends up first.
    top: [
      ...[...new Set(rules.allowTcpPorts)].map((p) => [...from, '-p', 'tcp', '--dport', String(p), ...tag, '-j', 'RETURN']),
      [...from, '-m', 'conntrack', '--ctstate', 'ESTABLISHED,RELATED', ...tag, '-j', 'RETURN'],
    ],
    // A reset answers a connect at once (ECONNREFUSED) rather than leaving it to time out.
    bottom: [
      [...from, '-p', 'tcp', ...tag, '-j', 'REJECT', '--reject-with', 'tcp-reset'],
      [...from, ...tag, '-j', 'REJECT'],
    ],
  };
}

/** The nat rule for `forwardHttps`, as iptables arguments after the chain name, or none. */
export function natSpecs(rules: FirewallRules): string[][] {
  const f = rules.forwardHttps;
  if (f === undefined) return [];
  const tag = ['-m', 'comment', '--comment', ruleComment(rules)];
  return [['-i', rules.bridge, '-d', `${f.address}/32`, '-p', 'tcp', '--dport', String(HTTPS_PORT), ...tag, '-j', 'DNAT', '--to-destination', `${f.address}:${f.toPort}`]];
}

export class IptablesFunctionFirewall implements FunctionFirewall {
  constructor(
    private readonly runner: IptablesRunner = defaultRunner,
    /** IPv4 must succeed; IPv6 only where the host has it (function networks are IPv4-only). */
    private readonly families: { readonly required: readonly string[]; readonly optional: readonly string[] } = { required: ['iptables'], optional: ['ip6tables'] },
  ) {}

  async install(rules: FirewallRules): Promise<void> {
    for (const bin of this.families.required) await this.installWith(bin, rules);
    for (const bin of this.families.optional) await this.installWith(bin, rules).catch(() => undefined);
  }

  async remove(scope: FirewallScope): Promise<void> {
    const errors: unknown[] = [];
    for (const bin of [...this.families.required, ...this.families.optional]) {
      await this.removeWith(bin, scope).catch((e: unknown) => {
        if (this.families.required.includes(bin)) errors.push(e);
      });
    }
    if (errors.length > 0) throw errors[0];
  }

  private async installWith(bin: string, rules: FirewallRules): Promise<void> {
    await this.ensureChain(bin);
    // A network made anew has a new bridge: whatever this node had for the old one goes first.
    await this.removeWith(bin, rules);
    const specs = ruleSpecs(rules);
    for (const spec of specs.bottom) await this.runner(bin, ['-A', FIREWALL_CHAIN, ...spec]);
    for (const spec of specs.top) await this.runner(bin, ['-I', FIREWALL_CHAIN, '1', ...spec]);
    const nat = natSpecs(rules);
    if (nat.length > 0 && bin === 'iptables') {
      await this.ensureNatChain(bin);
      for (const spec of nat) await this.runner(bin, ['-t', 'nat', '-A', NAT_CHAIN, ...spec]);
    }
  }

  private async ensureNatChain(bin: string): Promise<void> {
    const exists = await this.runner(bin, ['-t', 'nat', '-S', NAT_CHAIN]).then(() => true, () => false);
    if (!exists) {
      await this.runner(bin, ['-t', 'nat', '-N', NAT_CHAIN]).catch(async (e: unknown) => {
        await this.runner(bin, ['-t', 'nat', '-S', NAT_CHAIN]).catch(() => Promise.reject(e));
      });
    }
    const jump = ['PREROUTING', '-m', 'comment', '--comment', JUMP_COMMENT, '-j', NAT_CHAIN];
    const jumps = await this.runner(bin, ['-t', 'nat', '-C', ...jump]).then(() => true, () => false);
    if (!jumps) await this.runner(bin, ['-t', 'nat', '-I', 'PREROUTING', '1', ...jump.slice(1)]);
  }

  private async ensureChain(bin: string): Promise<void> {
    const exists = await this.runner(bin, ['-S', FIREWALL_CHAIN]).then(() => true, () => false);
    if (!exists) {
      // Another node may create it at the same moment: only a chain still missing is an error.
      await this.runner(bin, ['-N', FIREWALL_CHAIN]).catch(async (e: unknown) => {
        await this.runner(bin, ['-S', FIREWALL_CHAIN]).catch(() => Promise.reject(e));
      });
    }
    const jump = ['INPUT', '-m', 'comment', '--comment', JUMP_COMMENT, '-j', FIREWALL_CHAIN];
    const jumps = await this.runner(bin, ['-C', ...jump]).then(() => true, () => false);
    if (!jumps) await this.runner(bin, ['-I', jump[0] as string, '1', ...jump.slice(1)]);
  }

  private async removeWith(bin: string, scope: FirewallScope): Promise<void> {
    const listed = await this.runner(bin, ['-S', FIREWALL_CHAIN]).catch(() => undefined);
    if (listed === undefined) return; // no chain, no rules
    const mine = ownRules(listed, ruleComment(scope));
    for (const args of mine) await this.runner(bin, ['-D', ...args]);
    const natListed = await this.runner(bin, ['-t', 'nat', '-S', NAT_CHAIN]).catch(() => undefined);
    if (natListed === undefined) return;
    for (const args of ownRules(natListed, ruleComment(scope), NAT_CHAIN)) await this.runner(bin, ['-t', 'nat', '-D', ...args]);
  }
}

/**
 * This node's rules from `iptables -S` output, as arguments for `-D`. Comments and interface
 * names are plain tokens here (Gantry's network names and node ids have no spaces or quotes),
 * so splitting on spaces is exact for every rule that can match.
 */
export function ownRules(listing: string, comment: string, chain = FIREWALL_CHAIN): string[][] {
  const out: string[][] = [];
  for (const line of listing.split('\n')) {
    // iptables quotes comments that hold a colon; a token Gantry wrote has no other quoting.
    const words = line.trim().split(/\s+/).map((w) => w.replace(/^"(.*)"$/, '$1'));
    if (words[0] !== '-A' || words[1] !== chain) continue;
    const at = words.indexOf('--comment');
    if (at >= 0 && words[at + 1] === comment) out.push(words.slice(1));
  }
  return out;
}
