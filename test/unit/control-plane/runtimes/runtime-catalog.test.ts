import t from 'tap';
import { loadControlPlaneConfig } from '../../../../control-plane/config.js';
import { canonicalRuntime, RuntimeCatalog } from '../../../../control-plane/runtimes/runtime-catalog.js';
import { FakeContainerRuntime } from '../../../support/fake-container-runtime.js';

t.test('AWS runtime names mean the same runtime as Gantry ids', async (t) => {
  t.equal(canonicalRuntime('nodejs22.x'), 'nodejs22');
  t.equal(canonicalRuntime('nodejs24.x'), 'nodejs24');
  t.equal(canonicalRuntime('nodejs20.x'), 'nodejs20');
  t.equal(canonicalRuntime('provided.al2023'), 'provided');
  t.equal(canonicalRuntime('provided.al2'), 'provided');
  t.equal(canonicalRuntime('python3.13'), 'python3.13');
  t.equal(canonicalRuntime('ruby3.3'), 'ruby3.3');
  t.equal(canonicalRuntime('go1.x'), 'provided', 'go1.x functions run on provided (the executable the handler names)');
  t.equal(canonicalRuntime('nodejs22'), 'nodejs22');
  t.equal(canonicalRuntime('nodejs18.x'), undefined, 'a runtime Gantry has no image for is unknown');
  t.equal(canonicalRuntime('NODEJS22.X'), undefined, 'names are case-sensitive, as in Lambda');
});

t.test('GET /v1/runtimes lists present images with their version, and the deprecation date where support ended', async (t) => {
  const containers = new FakeContainerRuntime();
  containers.images.set('gantry/nodejs20:latest', { labels: { 'gantry.runtime.version': 'v20.20.2' } });
  containers.images.set('gantry/python3.13:latest', { labels: { 'gantry.runtime.version': '3.13.5' } });
  const catalog = new RuntimeCatalog(containers, 'gantry/');
  t.same(await catalog.available(), [
    { id: 'nodejs20', image: 'gantry/nodejs20:latest', version: 'v20.20.2', deprecated: '2026-04-30' },
    { id: 'python3.13', image: 'gantry/python3.13:latest', version: '3.13.5' },
  ]);
});

t.test('stem cells: every present specialisable runtime, or those GANTRY_STEM_CELL_RUNTIMES names', async (t) => {
  const containers = new FakeContainerRuntime();
  for (const id of ['nodejs20', 'nodejs24', 'python3.11', 'provided']) containers.images.set(`gantry/${id}:latest`, { labels: {} });
  const catalog = new RuntimeCatalog(containers, 'gantry/');
  t.same(await catalog.stemCellRuntimes(undefined), ['nodejs20', 'nodejs24', 'python3.11'], 'provided runs the zip\'s own program: no stem cells');
  t.same(await catalog.stemCellRuntimes(['nodejs24', 'python3.13']), ['nodejs24'], 'a named runtime without an image has none');
  t.same(await catalog.stemCellRuntimes([]), []);
});

t.test('GANTRY_STEM_CELL_RUNTIMES takes runtime ids only', async (t) => {
  const base = { GANTRY_ADMIN_TOKEN: 'x'.repeat(32) };
  t.same(loadControlPlaneConfig({ ...base, GANTRY_STEM_CELL_RUNTIMES: 'nodejs22, python3.13' }).GANTRY_STEM_CELL_RUNTIMES, ['nodejs22', 'python3.13']);
  t.equal(loadControlPlaneConfig(base).GANTRY_STEM_CELL_RUNTIMES, undefined);
  t.throws(() => loadControlPlaneConfig({ ...base, GANTRY_STEM_CELL_RUNTIMES: 'nodejs22.x' }), /GANTRY_STEM_CELL_RUNTIMES/);
  t.throws(() => loadControlPlaneConfig({ ...base, GANTRY_STEM_CELL_RUNTIMES: 'cobol' }), /"cobol" is not a runtime id/);
});

t.test('ruby3.3 keeps stem cells', async (t) => {
  const containers = new FakeContainerRuntime();
  containers.images.set('gantry/ruby3.3:latest', { labels: { 'gantry.runtime.version': '3.3.8' } });
  const catalog = new RuntimeCatalog(containers, 'gantry/');
  t.ok(catalog.canSpecialize('ruby3.3'));
  t.same(await catalog.stemCellRuntimes(undefined), ['ruby3.3']);
});
