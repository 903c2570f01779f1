/**
 * A node's function isolation: the function network without inter-container traffic, and host
 * firewall rules on its bridge. Set up once at start, before any container starts (a connection a
 * function opened before the rules were in place would outlive them), removed at shutdown after
 * the scheduler. Neither failure stops the start: the node serves, says why in the log, and
 * /readyz shows `isolation` false until a start succeeds.
 */
import type { Logger } from '../../common/logger.js';
import type { ControlPlaneConfig } from '../config.js';
import type { ContainerRuntime } from './container-runtime.js';
import type { FirewallScope, FunctionFirewall } from './function-firewall.js';

export type FunctionIsolationConfig = Pick<
  ControlPlaneConfig,
  'GANTRY_FUNCTION_NETWORK' | 'GANTRY_NODE_ID' | 'GANTRY_FUNCTION_FIREWALL' | 'GANTRY_FUNCTIONS_REACH_GATEWAY' | 'GANTRY_FUNCTION_GATEWAY_URL' | 'GANTRY_PUBLIC_URL' | 'GANTRY_FUNCTION_TLS_PORT'
>;

export interface FunctionIsolationDeps {
  readonly containers: ContainerRuntime;
  readonly firewall: FunctionFirewall;
  readonly logger: Logger;
}

export interface IsolationSetUp {
  /** The host's address on the function network where functions may reach it, else undefined. */
  readonly hostAddressForFunctions: string | undefined;
}

/**
 * Listens for functions on the host's address on their network (the function-facing Lambda API)
 * before the firewall is installed; resolves with the bound port the firewall then opens, or
 * undefined when nothing listens.
 */
export type FunctionFacingListener = (hostAddress: string) => Promise<number | undefined>;

export class FunctionIsolation {
  // Known once at start, shown in /readyz.
  private network = false;
  private firewallInstalled = false;
  private readonly scope: FirewallScope;

  constructor(
    private readonly deps: FunctionIsolationDeps,
    private readonly c: FunctionIsolationConfig,
  ) {
    this.scope = { network: c.GANTRY_FUNCTION_NETWORK, nodeId: c.GANTRY_NODE_ID };
  }

  async setUp(listenForFunctions?: FunctionFacingListener): Promise<IsolationSetUp> {
    const { containers, logger } = this.deps;
    const name = this.c.GANTRY_FUNCTION_NETWORK;
    const network = await containers.ensureNetwork(name, { 'gantry.managed': 'true' }).catch((e: unknown) => {
      logger.warn({ err: e as Error }, 'function network not ready; functions with network "default" will fail to start');
      return undefined;
    });
    this.network = network?.isolated ?? false;
    if (network && !network.isolated) {
      logger.warn({ network: name }, 'function network allows traffic between containers: remove it (or name another) so Gantry makes it anew');
    }
    const bridgeIp = await containers.networkGateway(name).catch(() => undefined);
    const firewallOn = this.c.GANTRY_FUNCTION_FIREWALL === 'on';
    // Functions find the gateway on the host only where the firewall lets them.
    const setUp = { hostAddressForFunctions: !firewallOn || this.c.GANTRY_FUNCTIONS_REACH_GATEWAY ? bridgeIp : undefined };
    // Closed together with the gateway's port (GANTRY_FUNCTIONS_REACH_GATEWAY=false): no host port then.
    const reachable = setUp.hostAddressForFunctions;
    const functionFacingPort = reachable === undefined || listenForFunctions === undefined ? undefined : await listenForFunctions(reachable);
    if (!firewallOn) return setUp;
    if (network?.bridge === undefined) {
      logger.warn({ network: name }, 'function firewall not installed: the function network has no bridge interface');
      return setUp;
    }
    const gatewayPort = this.c.GANTRY_FUNCTIONS_REACH_GATEWAY ? urlPort(this.c.GANTRY_FUNCTION_GATEWAY_URL ?? this.c.GANTRY_PUBLIC_URL) : undefined;
    // The function TLS listener: https to the host's address (port 443) is forwarded to it.
    const tlsPort = this.c.GANTRY_FUNCTIONS_REACH_GATEWAY && this.c.GANTRY_FUNCTION_TLS_PORT > 0 && bridgeIp !== undefined ? this.c.GANTRY_FUNCTION_TLS_PORT : undefined;
    try {
      const allowTcpPorts = [gatewayPort, functionFacingPort, tlsPort].filter((p): p is number => p !== undefined);
      await this.deps.firewall.install({
        ...this.scope,
        bridge: network.bridge,
        allowTcpPorts,
        ...(tlsPort === undefined || bridgeIp === undefined ? {} : { forwardHttps: { address: bridgeIp, toPort: tlsPort } }),
      });
      this.firewallInstalled = true;
    } catch (e) {
      logger.warn({ err: e as Error, network: name }, 'function firewall not installed (is iptables installed and may this process use it?): functions can reach the host\'s ports');
    }
    return setUp;
  }

  /** Shown, not a readiness check: an unisolated node still serves (a network older nodes still
   * use is made anew only once it is empty), and the operator sees why in the log and here. */
  facts(): { readonly isolation: { readonly functionNetwork: boolean; readonly functionFirewall: boolean | 'off' } } {
    return { isolation: { functionNetwork: this.network, functionFirewall: this.c.GANTRY_FUNCTION_FIREWALL === 'on' ? this.firewallInstalled : 'off' } };
  }

  /** After the scheduler has stopped: none of this node's functions runs any more. */
  async remove(): Promise<void> {
    if (this.firewallInstalled) await this.deps.firewall.remove(this.scope);
  }
}

function urlPort(url: string): number {
  const u = new URL(url);
  return u.port !== '' ? Number(u.port) : u.protocol === 'https:' ? 443 : 80;
}
