/**
 * Gantry's architecture, checked on every `npm test` (and alone with `npm run lint:arch`).
 * Each rule names a boundary of ARCHITECTURE.md; a broken one fails with the rule's name, the
 * importing module and the imported one. Type-only imports count: a type is a dependency too.
 */
const PRODUCT = '^(common|control-plane|gateway|single-process|cli)/|^main\\.ts$';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'gateway-not-control-plane',
      comment: 'The gateway never imports the control plane: they meet only over the invoke protocol in common/ (one-process wiring lives in single-process/).',
      severity: 'error',
      from: { path: '^gateway/' },
      to: { path: '^control-plane/' },
    },
    {
      name: 'control-plane-not-gateway',
      comment: 'The control plane never imports the gateway: shared protocol lives in common/.',
      severity: 'error',
      from: { path: '^control-plane/' },
      to: { path: '^gateway/' },
    },
    {
      name: 'common-not-either-side',
      comment: 'common/ is what both processes share; it depends on neither of them nor on the one-process wiring.',
      severity: 'error',
      from: { path: '^common/' },
      to: { path: '^(control-plane|gateway|single-process)/|^main\\.ts$' },
    },
    {
      name: 'processes-not-single-process',
      comment: 'single-process/ and main.ts wire both sides into one process; neither side depends on that wiring.',
      severity: 'error',
      from: { path: '^(control-plane|gateway)/' },
      to: { path: '^single-process/|^main\\.ts$' },
    },
    {
      name: 'cli-only-over-http',
      comment: 'The gantry CLI speaks only the documented HTTP contract (api.md): it imports at most common/, never either process or their wiring.',
      severity: 'error',
      from: { path: '^cli/' },
      to: { path: '^(control-plane|gateway|single-process)/|^main\\.ts$' },
    },
    {
      name: 'metering-not-scheduler',
      comment: 'The ledger records what the scheduler decided (its types live in metering/ledger.ts); it never depends on the scheduler.',
      severity: 'error',
      from: { path: '^control-plane/metering/' },
      to: { path: '^control-plane/scheduler/' },
    },
    {
      name: 'invoke-api-not-admin-api',
      comment: 'The invoke hot path does not go through the admin API (routers, schemas, Express helpers).',
      severity: 'error',
      from: { path: '^control-plane/(invoke-api|invocation)/' },
      to: { path: '^control-plane/admin-api/' },
    },
    {
      name: 'admin-api-only-from-composition-root',
      comment: 'The admin API (routers, schemas, validation) is a leaf: only the control plane\'s composition root mounts it; no other role depends on it.',
      severity: 'error',
      from: { path: '^control-plane/', pathNot: '^control-plane/(admin-api/|app\\.ts$)' },
      to: { path: '^control-plane/admin-api/' },
    },
    {
      name: 'lambda-api-only-from-composition-root',
      comment: 'The Lambda API (AWS shapes over the function service and the invoker) is a leaf like the admin API: only the composition root wires it, and the two never import each other.',
      severity: 'error',
      from: { path: '^control-plane/', pathNot: '^control-plane/(lambda-api/|app\\.ts$)' },
      to: { path: '^control-plane/lambda-api/' },
    },
    {
      name: 'docker-only-in-containers-docker',
      comment: 'Docker is reached only through the ContainerRuntime seam; dockerode belongs to control-plane/containers/docker/.',
      severity: 'error',
      from: { path: PRODUCT, pathNot: '^control-plane/containers/docker/' },
      to: { path: 'node_modules/(@types/)?dockerode/' },
    },
    {
      name: 'express-off-the-invoke-path',
      comment: 'Express serves the admin API and the Lambda API only; the invoke path (invoke-api, invoker, scheduler, containers, Runtime API, metering) stays off it.',
      severity: 'error',
      from: { path: '^control-plane/(invoke-api|invocation|scheduler|containers|runtime-api|metering)/' },
      to: { path: 'node_modules/(@types/)?express/' },
    },
    {
      name: 'pg-only-in-common-db',
      comment: 'The Postgres driver is reached only through common/db.ts (pool, Queryable); each role keeps its own store on top of it.',
      severity: 'error',
      from: { path: PRODUCT, pathNot: '^common/db\\.ts$' },
      to: { path: 'node_modules/(@types/)?pg/' },
    },
    {
      name: 'console-only-over-http',
      comment: 'The web console (console/) talks to Gantry only through the documented admin API over HTTP: it imports nothing from either side, common/ or the one-process wiring.',
      severity: 'error',
      from: { path: '^console/' },
      to: { path: '^(common|control-plane|gateway|single-process)/|^main\\.ts$' },
    },
    {
      name: 'product-not-tests-or-bench',
      comment: 'Product code never imports tests, test support or the bench.',
      severity: 'error',
      from: { path: PRODUCT },
      to: { path: '^(test|bench)/' },
    },
    {
      name: 'no-cycles',
      comment: 'No import cycles, in product code or in tests.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-unresolvable',
      comment: 'Every relative import resolves to a file.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|runtime-images|test/fixtures)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.test.json' },
    enhancedResolveOptions: {
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      exportsFields: ['exports'],
      mainFields: ['module', 'main', 'types', 'typings'],
      extensions: ['.ts', '.tsx', '.mts', '.js', '.mjs', '.cjs', '.d.ts', '.d.mts', '.json'],
    },
  },
};
