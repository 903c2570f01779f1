/**
 * Postgres persistence of APIs and routes (what the gateway serves). Each mutation bumps the
 * config revision in its transaction; gateways reload their route table from `loadSnapshot`.
 */
import { randomBytes } from 'node:crypto';
import type { Pool } from '../../common/db.js';
import { GantryError } from '../../common/errors.js';
import type { TenantId } from '../functions/function-types.js';
import { bumpConfigRevision, inTransaction, query } from '../postgres/transaction.js';

export interface ApiRecord {
  readonly id: string;
  readonly name: string;
  readonly protocol: 'http' | 'websocket';
  readonly cors: Record<string, unknown> | null;
  readonly hosts: string[];
  readonly routeSelectionExpression: string | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface RouteRecord {
  readonly id: string;
  readonly apiId: string;
  readonly routeKey: string;
  readonly functionName: string;
  readonly payloadFormatVersion: '1.0' | '2.0';
  /** apiKeyRequired, authorizer, throttle, routeResponseSelectionExpression: stored as given. */
  readonly options: Record<string, unknown>;
  readonly createdAt: Date;
}

export interface NewApi {
  readonly name: string;
  readonly protocol: 'http' | 'websocket';
  readonly cors?: Record<string, unknown> | null | undefined;
  readonly hosts?: string[] | undefined;
  readonly routeSelectionExpression?: string | undefined;
}

interface ApiRow {
  id: string;
  name: string;
  protocol: 'http' | 'websocket';
  cors: Record<string, unknown> | null;
  hosts: string[];
  route_selection_expression: string | null;
  created_at: Date;
  updated_at: Date;
}

interface RouteRow {
  id: string;
  api_id: string;
  route_key: string;
  function_name: string;
  payload_format_version: '1.0' | '2.0';
  options: Record<string, unknown>;
  created_at: Date;
}

/** Ids shaped like API Gateway's: lowercase alphanumerics. */
function newId(length: number): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from(randomBytes(length), (b) => alphabet[b % alphabet.length]).join('');
}

export class ApiStore {
  constructor(private readonly pool: Pool) {}

  async list(tenantId: TenantId): Promise<ApiRecord[]> {
    const rows = await query<ApiRow>(this.pool, 'SELECT * FROM apis WHERE tenant_id = $1 ORDER BY name', [tenantId]);
    return rows.map(toApi);
  }

  async require(tenantId: TenantId, name: string): Promise<ApiRecord> {
    const rows = await query<ApiRow>(this.pool, 'SELECT * FROM apis WHERE tenant_id = $1 AND name = $2', [tenantId, name]);
    if (rows[0] === undefined) throw new GantryError('ResourceNotFound', `API not found: ${name}`, { component: 'store' });
    return toApi(rows[0]);
  }

  async create(tenantId: TenantId, api: NewApi): Promise<ApiRecord> {
    return inTransaction(this.pool, async (c) => {
      await assertHostsFree(c, tenantId, api.hosts ?? [], undefined);
      const r = await c.query<ApiRow>(
        `INSERT INTO apis (id, tenant_id, name, protocol, cors, hosts, route_selection_expression)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *`,
        [newId(10), tenantId, api.name, api.protocol, json(api.cors ?? null), JSON.stringify(api.hosts ?? []), api.routeSelectionExpression ?? null],
      );
      await bumpConfigRevision(c);
      return toApi(r.rows[0] as ApiRow);
    });
  }

  async patch(tenantId: TenantId, name: string, patch: Omit<NewApi, 'name' | 'protocol'>): Promise<ApiRecord> {
    return inTransaction(this.pool, async (c) => {
      const current = await c.query<ApiRow>('SELECT * FROM apis WHERE tenant_id = $1 AND name = $2 FOR UPDATE', [tenantId, name]);
      const row = current.rows[0];
      if (row === undefined) throw new GantryError('ResourceNotFound', `API not found: ${name}`, { component: 'store' });
      if (patch.hosts !== undefined) await assertHostsFree(c, tenantId, patch.hosts, row.id);
      const r = await c.query<ApiRow>(
        `UPDATE apis SET cors = $2, hosts = $3, route_selection_expression = $4, updated_at = now() WHERE id = $1 RETURNING *`,
        [
          row.id,
          json(patch.cors === undefined ? row.cors : patch.cors),
          JSON.stringify(patch.hosts ?? row.hosts),
          patch.routeSelectionExpression ?? row.route_selection_expression,
        ],
      );
      await bumpConfigRevision(c);
      return toApi(r.rows[0] as ApiRow);
    });
  }

  async delete(tenantId: TenantId, name: string): Promise<void> {
    await inTransaction(this.pool, async (c) => {
      const r = await c.query('DELETE FROM apis WHERE tenant_id = $1 AND name = $2', [tenantId, name]);
      if (r.rowCount === 0) throw new GantryError('ResourceNotFound', `API not found: ${name}`, { component: 'store' });
      await bumpConfigRevision(c);
    });
  }

  async listRoutes(apiId: string): Promise<RouteRecord[]> {
    const rows = await query<RouteRow>(this.pool, 'SELECT * FROM routes WHERE api_id = $1 ORDER BY created_at, id', [apiId]);
    return rows.map(toRoute);
  }

  async createRoute(tenantId: TenantId, apiId: string, route: Omit<RouteRecord, 'id' | 'apiId' | 'createdAt'>): Promise<RouteRecord> {
    return inTransaction(this.pool, async (c) => {
      const r = await c.query<RouteRow>(
        `INSERT INTO routes (id, tenant_id, api_id, route_key, function_name, payload_format_version, options)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *`,
        [newId(7), tenantId, apiId, route.routeKey, route.functionName, route.payloadFormatVersion, JSON.stringify(route.options)],
      );
      await bumpConfigRevision(c);
      return toRoute(r.rows[0] as RouteRow);
    }).catch((e: unknown) => {
      if (e instanceof GantryError && e.type === 'ResourceConflict') {
        throw new GantryError('ResourceConflict', `Route "${route.routeKey}" already exists in this API.`, { component: 'store' });
      }
      throw e;
    });
  }

  async deleteRoute(apiId: string, routeId: string): Promise<void> {
    await inTransaction(this.pool, async (c) => {
      const r = await c.query('DELETE FROM routes WHERE api_id = $1 AND id = $2', [apiId, routeId]);
      if (r.rowCount === 0) throw new GantryError('ResourceNotFound', `Route not found: ${routeId}`, { component: 'store' });
      await bumpConfigRevision(c);
    });
  }
}

async function assertHostsFree(c: import('../../common/db.js').PoolClient, tenantId: TenantId, hosts: string[], exceptApiId: string | undefined): Promise<void> {
  if (hosts.length === 0) return;
  const r = await c.query<{ name: string }>(
    `SELECT name FROM apis WHERE tenant_id = $1 AND hosts ?| $2 AND ($3::text IS NULL OR id <> $3)`,
    [tenantId, hosts.map((h) => h.toLowerCase()), exceptApiId ?? null],
  );
  if (r.rows[0] !== undefined) {
    throw new GantryError('ResourceConflict', `A host is already served by API "${r.rows[0].name}".`, { component: 'store' });
  }
}

function json(v: unknown): string | null {
  return v === null || v === undefined ? null : JSON.stringify(v);
}

function toApi(r: ApiRow): ApiRecord {
  return {
    id: r.id,
    name: r.name,
    protocol: r.protocol,
    cors: r.cors,
    hosts: r.hosts,
    routeSelectionExpression: r.route_selection_expression,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function toRoute(r: RouteRow): RouteRecord {
  return {
    id: r.id,
    apiId: r.api_id,
    routeKey: r.route_key,
    functionName: r.function_name,
    payloadFormatVersion: r.payload_format_version,
    options: r.options,
    createdAt: r.created_at,
  };
}
