/**
 * Reads the gateway's view of the stored configuration in one transaction: APIs with their
 * routes and their options, each routed function's timeout (for the integration timeout), API keys
 * with their usage plans (so a key check never needs Postgres), and the revision.
 */
import type { Pool } from '../../common/db.js';
import { headerSafeCors } from '../http/cors.js';
import { apiKeyFrom, routeOptionsFrom } from './route-options.js';
import type { ApiDefinition, ApiKeyDefinition, CorsConfig, PayloadFormatVersion, RouteSnapshot } from './route-snapshot.js';

export interface LoadedSnapshot {
  readonly snapshot: RouteSnapshot;
  /** Current timeout of every function, by name. */
  readonly functionTimeoutsMs: ReadonlyMap<string, number>;
  /** Every API key by the sha256 (hex) of its value, with its usage plan. */
  readonly apiKeys: ReadonlyMap<string, ApiKeyDefinition>;
}

interface KeyRow {
  id: string;
  key_sha256: string;
  usage_plan_id: string;
  apis: unknown;
  throttle: unknown;
  quota: unknown;
  plan_created_at: Date;
}

interface Row {
  api_id: string;
  tenant_id: string;
  api_name: string;
  protocol: 'http' | 'websocket';
  cors: CorsConfig | null;
  hosts: string[];
  route_selection_expression: string | null;
  route_id: string | null;
  route_key: string | null;
  function_name: string | null;
  payload_format_version: PayloadFormatVersion | null;
  options: unknown;
}

export async function loadSnapshot(pool: Pool): Promise<LoadedSnapshot> {
  const client = await pool.connect();
  try {
    // REPEATABLE READ: the revision and the rows come from one consistent view.
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const revision = Number((await client.query<{ revision: string }>('SELECT revision FROM config_revision WHERE id = 1')).rows[0]?.revision ?? 0);
    const rows = (
      await client.query<Row>(`
        SELECT a.id AS api_id, a.tenant_id, a.name AS api_name, a.protocol, a.cors, a.hosts, a.route_selection_expression,
               r.id AS route_id, r.route_key, r.function_name, r.payload_format_version, r.options
          FROM apis a LEFT JOIN routes r ON r.api_id = a.id
         ORDER BY a.name, r.created_at, r.id`)
    ).rows;
    const timeouts = (
      await client.query<{ name: string; timeout_ms: number }>(
        'SELECT f.name, v.timeout_ms FROM functions f JOIN function_versions v ON v.id = f.current_version_id',
      )
    ).rows;
    const keys = (
      await client.query<KeyRow>(
        'SELECT k.id, k.key_sha256, k.usage_plan_id, p.apis, p.throttle, p.quota, p.created_at AS plan_created_at FROM api_keys k JOIN usage_plans p ON p.id = k.usage_plan_id',
      )
    ).rows;
    await client.query('COMMIT');
    return {
      snapshot: { revision, apis: groupApis(rows) },
      functionTimeoutsMs: new Map(timeouts.map((t) => [t.name, t.timeout_ms])),
      apiKeys: new Map(keys.map((k) => [k.key_sha256, apiKeyFrom(k)])),
    };
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    client.release();
  }
}

export async function readRevision(pool: Pool): Promise<number> {
  const r = await pool.query<{ revision: string }>('SELECT revision FROM config_revision WHERE id = 1');
  return Number(r.rows[0]?.revision ?? 0);
}

function groupApis(rows: readonly Row[]): ApiDefinition[] {
  const apis = new Map<string, { def: Omit<ApiDefinition, 'routes'>; routes: ApiDefinition['routes'][number][] }>();
  for (const r of rows) {
    let entry = apis.get(r.api_id);
    if (!entry) {
      entry = { def: { id: r.api_id, tenantId: r.tenant_id, name: r.api_name, protocol: r.protocol, hosts: r.hosts, cors: headerSafeCors(r.cors), routeSelectionExpression: r.route_selection_expression }, routes: [] };
      apis.set(r.api_id, entry);
    }
    if (r.route_id !== null && r.route_key !== null && r.function_name !== null && r.payload_format_version !== null) {
      entry.routes.push({
        id: r.route_id,
        routeKey: r.route_key,
        functionName: r.function_name,
        payloadFormatVersion: r.payload_format_version,
        ...routeOptionsFrom(r.options),
      });
    }
  }
  return [...apis.values()].map((a) => ({ ...a.def, routes: a.routes }));
}
