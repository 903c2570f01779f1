// The .NET and PowerShell rows of the catalog: dotnet-mono keeps stem cells; dotnet8 and
// powershell (registry-only images, AWS's managed .NET runtime and a script host) do not, and are
// listed only where their image was built.
import t from 'tap';
import { RuntimeCatalog } from '../../../../control-plane/runtimes/runtime-catalog.js';
import { FakeContainerRuntime } from '../../../support/fake-container-runtime.js';

t.test('dotnet-mono, dotnet8 and powershell are known ids; only dotnet-mono can be specialised', async (t) => {
  const catalog = new RuntimeCatalog(new FakeContainerRuntime(), 'gantry/');
  for (const id of ['dotnet-mono', 'dotnet8', 'powershell']) t.ok(catalog.isKnown(id), id);
  t.equal(catalog.canSpecialize('dotnet-mono'), true);
  t.equal(catalog.canSpecialize('dotnet8'), false);
  t.equal(catalog.canSpecialize('powershell'), false);
});

t.test('absent registry-only images are not listed; present ones are, with their version', async (t) => {
  const containers = new FakeContainerRuntime();
  containers.images.set('gantry/dotnet-mono:latest', { labels: { 'gantry.runtime.version': '6.12.0.199' } });
  t.same(await new RuntimeCatalog(containers, 'gantry/').available(), [{ id: 'dotnet-mono', image: 'gantry/dotnet-mono:latest', version: '6.12.0.199' }]);
  containers.images.set('gantry/dotnet8:latest', { labels: { 'gantry.runtime.version': '8.0.11' } });
  const withDotnet8 = new RuntimeCatalog(containers, 'gantry/');
  t.same((await withDotnet8.available()).map((r) => r.id), ['dotnet-mono', 'dotnet8']);
  t.same(await withDotnet8.stemCellRuntimes(undefined), ['dotnet-mono']);
});
