/**
 * The admin API as one Express app: the ops endpoints, bearer authentication of everything under
 * /v1, one router per resource, then api.md's 404 and error shape. The invoke endpoint is not
 * here: it is answered before Express (invoke-api/).
 */
import express from 'express';
import type { Registry } from 'prom-client';
import type { Pool } from '../../common/db.js';
import { GantryError } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import { opsRouter, type ReadinessChecks, type ReadinessFacts } from '../../common/ops-router.js';
import type { Redis, RedisKeys } from '../../common/redis.js';
import { UsageKeys } from '../../common/usage-keys.js';
import type { AccessKeyService } from '../access-keys/access-key-service.js';
import type { ApiStore } from '../apis/api-store.js';
import type { AsyncService } from '../async/async-service.js';
import type { TokenAuth } from '../auth/token-auth.js';
import type { ControlPlaneConfig } from '../config.js';
import type { FunctionService } from '../functions/function-service.js';
import type { FunctionStore } from '../functions/function-store.js';
import type { FunctionId } from '../functions/function-types.js';
import type { LogStore } from '../logs/log-store.js';
import { UsageStore } from '../metering/read/usage-store.js';
import { PriceStore } from '../metering/pricing/price-store.js';
import type { RuntimeCatalog } from '../runtimes/runtime-catalog.js';
import { UsagePlanStore } from '../usage-plans/usage-plan-store.js';
import { accessKeysRouter } from './access-keys-router.js';
import { apisRouter } from './apis-router.js';
import { asyncRouter } from './async-router.js';
import { errorHandler, notFoundHandler, wellFormedTarget } from './express-helpers.js';
import { functionsRouter } from './functions-router.js';
import { logsRouter } from './logs-router.js';
import { schedulesRouter } from './schedules-router.js';
import { usagePlansRouter } from './usage-plans-router.js';
import { usageRouter } from './usage-router.js';

export type AdminApiConfig = Pick<
  ControlPlaneConfig,
  'GANTRY_PRICE_PER_GB_SECOND' | 'GANTRY_PRICE_PER_MILLION_REQUESTS' | 'GANTRY_PRICE_CURRENCY' | 'GANTRY_PUBLIC_URL'
>;

export interface AdminApiDeps {
  readonly auth: TokenAuth;
  readonly readiness: ReadinessChecks;
  /** Shown beside the checks in /readyz, never failing them. */
  readonly readinessFacts: ReadinessFacts;
  readonly registry: Registry;
  readonly pool: Pool;
  readonly redis: Redis;
  readonly keys: RedisKeys;
  readonly functionService: FunctionService;
  readonly functionStore: FunctionStore;
  readonly apiStore: ApiStore;
  readonly catalog: RuntimeCatalog;
  readonly logStore: LogStore;
  readonly asyncService: AsyncService;
  readonly provisionedReady: (functionId: FunctionId) => number;
  readonly publishChange: () => Promise<void>;
  readonly accessKeys: AccessKeyService;
  readonly logger: Logger;
}

export function createAdminApp(d: AdminApiDeps, c: AdminApiConfig): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(wellFormedTarget);
  app.use(opsRouter(d.readiness, d.registry, d.readinessFacts));
  app.use('/v1', (req, _res, next) => {
    d.auth.authenticate(req.headers.authorization, false);
    next();
  });
  app.use(functionsRouter({ service: d.functionService, store: d.functionStore, catalog: d.catalog, provisionedReady: d.provisionedReady }));
  app.use(logsRouter({ store: d.functionStore, logs: d.logStore }));
  app.use(asyncRouter({ service: d.asyncService }));
  app.use(schedulesRouter({ service: d.asyncService }));
  const prices = new PriceStore(d.pool, { pricePerGbSecond: c.GANTRY_PRICE_PER_GB_SECOND, pricePerMillionRequests: c.GANTRY_PRICE_PER_MILLION_REQUESTS, currency: c.GANTRY_PRICE_CURRENCY });
  app.use(usageRouter({ usage: new UsageStore(d.pool), prices, functions: d.functionStore, defaultCurrency: c.GANTRY_PRICE_CURRENCY }));
  app.use(apisRouter({ apis: d.apiStore, functions: d.functionStore, publicUrl: c.GANTRY_PUBLIC_URL, publishChange: d.publishChange }));
  app.use(usagePlansRouter({ plans: new UsagePlanStore(d.pool), apis: d.apiStore, counters: { read: (names) => readCounters(d.redis, names) }, usageKeys: new UsageKeys(d.keys), publishChange: d.publishChange }));
  app.use(accessKeysRouter({ service: d.accessKeys }));
  app.use(notFoundHandler());
  app.use(errorHandler(d.logger.child({ component: 'admin-api' })));
  return app;
}

async function readCounters(redis: Redis, names: readonly string[]): Promise<number[]> {
  if (names.length === 0) return [];
  const values = await redis.mget(...names).catch((e: unknown) => {
    throw new GantryError('ServiceUnavailable', 'Usage counters are unavailable; try again shortly.', { component: 'store', cause: e });
  });
  return values.map((v) => Number(v ?? 0));
}
