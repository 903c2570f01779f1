/**
 * What functions behind a websocket API find in their environment (api.md):
 * GANTRY_CONNECTIONS_URL, the base URL of that API's `@connections` endpoint as the function's
 * container reaches a gateway (an AWS SDK `ApiGatewayManagementApiClient` endpoint), and
 * GANTRY_CONNECTIONS_TOKEN, the API's connections token.
 *
 * Which function is behind which websocket API is read from Postgres at start and after every
 * configuration change, never per invocation. When it changes for a function, its environments
 * are retired so the next call starts with the right variables. A function behind several
 * websocket APIs gets the first by name.
 *
 * With the gateway's function TLS listener on, its containers' `/etc/hosts` (a file Gantry writes,
 * environment-starter.ts) also maps
 * the API's names, `{apiId}.execute-api.{region}.amazonaws.com` and its own hosts, to the host's
 * address on the function network, where the firewall forwards port 443 to that listener (see
 * gateway/websocket/function-tls-listener.ts for why).
 */
import { coalesced } from '../../common/coalesced.js';
import type { Pool } from '../../common/db.js';
import { connectionsToken } from '../../common/connections-token.js';
import { executeApiHost } from '../../common/execute-api-host.js';
import type { Logger } from '../../common/logger.js';
import type { FunctionId, FunctionVersion } from '../functions/function-types.js';

export interface ConnectionsEnvironmentDeps {
  readonly pool: Pool;
  readonly retire: (functionId: FunctionId) => void;
  readonly internalToken: () => string;
  readonly logger: Logger;
  readonly region: string;
}

interface Binding {
  readonly apiId: string;
  readonly apiName: string;
  readonly hosts: readonly string[];
}

interface Row {
  function_id: FunctionId;
  api_id: string;
  api_name: string;
  api_hosts: unknown;
}

export class ConnectionsEnvironment {
  private bindings = new Map<FunctionId, Binding>();
  private baseUrl: string | undefined;
  private loaded = false;
  private tlsAddress: string | undefined;

  constructor(private readonly deps: ConnectionsEnvironmentDeps) {}

  /** Where functions reach a gateway (no trailing slash); unset means no variables. */
  setGatewayUrl(url: string | undefined): void {
    this.baseUrl = url?.replace(/\/+$/, '');
  }

  get gatewayUrl(): string | undefined {
    return this.baseUrl;
  }

  /** The host's address on the function network when the function TLS listener is on, else undefined. */
  setFunctionTlsAddress(address: string | undefined): void {
    this.tlsAddress = address;
  }

  /** `name:address` lines for the containers of `v`: none unless it is behind a websocket API. */
  extraHostsFor(v: FunctionVersion): readonly string[] {
    const b = this.bindings.get(v.functionId);
    const address = this.tlsAddress;
    if (!b || address === undefined) return [];
    return [executeApiHost(b.apiId, this.deps.region), ...b.hosts].map((name) => `${name}:${address}`);
  }

  variablesFor(v: FunctionVersion): Record<string, string> {
    const b = this.bindings.get(v.functionId);
    if (!b || this.baseUrl === undefined) return {};
    return { GANTRY_CONNECTIONS_URL: `${this.baseUrl}/${b.apiName}`, GANTRY_CONNECTIONS_TOKEN: connectionsToken(this.deps.internalToken(), b.apiId) };
  }

  /** Coalesced: a change arriving during a reload triggers exactly one more. */
  readonly reload = coalesced(() => this.loadOnce());

  private async loadOnce(): Promise<void> {
    let rows: Row[];
    try {
      rows = (
        await this.deps.pool.query<Row>(`
          SELECT DISTINCT ON (f.id) f.id AS function_id, a.id AS api_id, a.name AS api_name, a.hosts AS api_hosts
            FROM routes r
            JOIN apis a ON a.id = r.api_id AND a.protocol = 'websocket'
            JOIN functions f ON f.tenant_id = r.tenant_id AND f.name = r.function_name
           ORDER BY f.id, a.name`)
      ).rows;
    } catch (e) {
      this.deps.logger.warn({ err: e as Error }, 'websocket function bindings not reloaded');
      return;
    }
    const next = new Map(rows.map((r) => [r.function_id, { apiId: r.api_id, apiName: r.api_name, hosts: hostNames(r.api_hosts) }]));
    if (this.loaded) {
      for (const id of new Set([...this.bindings.keys(), ...next.keys()])) {
        const was = this.bindings.get(id);
        const now = next.get(id);
        if (was?.apiId !== now?.apiId || was?.apiName !== now?.apiName || String(was?.hosts) !== String(now?.hosts)) this.deps.retire(id);
      }
    }
    this.bindings = next;
    this.loaded = true;
  }
}

/** Host names only (a stored `host:port` keeps its name): an /etc/hosts line takes no port. */
function hostNames(stored: unknown): string[] {
  if (!Array.isArray(stored)) return [];
  const names = stored.filter((h): h is string => typeof h === 'string').map((h) => h.toLowerCase().replace(/:\d*$/, '').replace(/\.$/, ''));
  return [...new Set(names)].filter((h) => /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/.test(h)).sort();
}

/**
 * The gateway URL functions use: the configured one, else the host's address on the functions'
 * bridge network with the port of the public URL (a gateway on this host listening on all
 * addresses is reachable there).
 */
export function functionGatewayUrl(configured: string | undefined, publicUrl: string, bridgeGatewayIp: string | undefined): string | undefined {
  if (configured !== undefined) return configured;
  if (bridgeGatewayIp === undefined) return undefined;
  const pub = new URL(publicUrl);
  const port = pub.port !== '' ? pub.port : pub.protocol === 'https:' ? '443' : '80';
  const host = bridgeGatewayIp.includes(':') ? `[${bridgeGatewayIp}]` : bridgeGatewayIp;
  return `http://${host}:${port}`;
}
