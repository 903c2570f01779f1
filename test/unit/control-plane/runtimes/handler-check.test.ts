import t from 'tap';
import type { ZipEntryInfo } from '../../../../control-plane/code/zip-archive.js';
import { missingHandlerModule } from '../../../../control-plane/runtimes/handler-check.js';

const file = (name: string): ZipEntryInfo => ({ name, kind: 'file', mode: 0o100644 });
const dir = (name: string): ZipEntryInfo => ({ name, kind: 'directory', mode: 0o040755 });
const link = (name: string): ZipEntryInfo => ({ name, kind: 'symlink', mode: 0o120777 });

const nodeMissing = (m: string) => `The code has no file for handler module "${m}" (looked for ${m}, ${m}.js, ${m}.mjs, ${m}.cjs).`;
const pyMissing = (m: string) => `The code has no file for handler module "${m}" (looked for ${m}.py, ${m}/__init__.py, ${m}.pyc).`;

const cases: readonly { name: string; runtime: string; handler: string; entries: ZipEntryInfo[]; reason: string | undefined }[] = [
  // Node.js (compat.md §1.5): [dir/]module.export[.nested…]
  { name: 'node finds index.js for index.handler', runtime: 'nodejs20', handler: 'index.handler', entries: [file('index.js')], reason: undefined },
  { name: 'node finds index.mjs for index.handler', runtime: 'nodejs20', handler: 'index.handler', entries: [file('index.mjs')], reason: undefined },
  { name: 'node finds index.cjs for index.handler', runtime: 'nodejs20', handler: 'index.handler', entries: [file('index.cjs')], reason: undefined },
  { name: 'node finds an extensionless index for index.handler', runtime: 'nodejs20', handler: 'index.handler', entries: [file('index')], reason: undefined },
  { name: 'node accepts a symlinked module file', runtime: 'nodejs20', handler: 'index.handler', entries: [link('index.js'), file('real.js')], reason: undefined },
  { name: 'node finds a nested module for src/app.handler', runtime: 'nodejs20', handler: 'src/app.handler', entries: [dir('src/'), file('src/app.js')], reason: undefined },
  { name: 'node walks a dotted export path on lib/api.routes.get', runtime: 'nodejs20', handler: 'lib/api.routes.get', entries: [file('lib/api.js')], reason: undefined },
  { name: 'node does not look for src/app.js at the root', runtime: 'nodejs20', handler: 'src/app.handler', entries: [file('app.js')], reason: nodeMissing('src/app') },
  { name: 'node reports a missing module with every candidate', runtime: 'nodejs20', handler: 'index.handler', entries: [file('other.js'), file('package.json')], reason: nodeMissing('index') },
  { name: 'node does not take a directory for the module file', runtime: 'nodejs20', handler: 'index.handler', entries: [dir('index/')], reason: nodeMissing('index') },
  { name: 'node does not take index.ts for index.handler', runtime: 'nodejs20', handler: 'index.handler', entries: [file('index.ts')], reason: nodeMissing('index') },
  { name: 'node reports an empty zip', runtime: 'nodejs20', handler: 'index.handler', entries: [], reason: nodeMissing('index') },
  { name: 'node rejects a handler without a dot', runtime: 'nodejs20', handler: 'index', entries: [file('index.js')], reason: 'Handler "index" must have the form [dir/]module.export.' },
  { name: 'node rejects a handler with an empty module', runtime: 'nodejs20', handler: '.handler', entries: [file('index.js')], reason: 'Handler ".handler" must have the form [dir/]module.export.' },
  { name: 'node rejects a handler with an empty export', runtime: 'nodejs20', handler: 'index.', entries: [file('index.js')], reason: 'Handler "index." must have the form [dir/]module.export.' },
  { name: 'node rejects a dot only in the directory part', runtime: 'nodejs20', handler: 'v1.0/index', entries: [file('v1.0/index.js')], reason: 'Handler "v1.0/index" must have the form [dir/]module.export.' },
  { name: 'node resolves a package directory in node_modules', runtime: 'nodejs20', handler: 'mypkg.handler', entries: [file('node_modules/mypkg/package.json'), file('node_modules/mypkg/index.js')], reason: undefined },
  { name: 'node resolves a single-file module in node_modules', runtime: 'nodejs20', handler: 'mypkg.handler', entries: [file('node_modules/mypkg.js')], reason: undefined },
  { name: 'node does not take an unrelated node_modules package', runtime: 'nodejs20', handler: 'mypkg.handler', entries: [file('node_modules/other/index.js')], reason: nodeMissing('mypkg') },
  // Python (compat.md §1.5): module.function split at the last dot.
  { name: 'python finds app.py for app.handler', runtime: 'python3.11', handler: 'app.handler', entries: [file('app.py')], reason: undefined },
  { name: 'python finds a dotted package path for pkg.sub.mod.fn', runtime: 'python3.11', handler: 'pkg.sub.mod.fn', entries: [file('pkg/__init__.py'), file('pkg/sub/__init__.py'), file('pkg/sub/mod.py')], reason: undefined },
  { name: 'python finds a package __init__.py for pkg.handler', runtime: 'python3.11', handler: 'pkg.handler', entries: [dir('pkg/'), file('pkg/__init__.py')], reason: undefined },
  { name: 'python finds a slash path for src/app.handler', runtime: 'python3.11', handler: 'src/app.handler', entries: [file('src/app.py')], reason: undefined },
  { name: 'python finds compiled bytecode', runtime: 'python3.11', handler: 'app.handler', entries: [file('app.pyc')], reason: undefined },
  { name: 'python finds an extension module', runtime: 'python3.11', handler: 'app.handler', entries: [file('app.cpython-311-x86_64-linux-gnu.so')], reason: undefined },
  { name: 'python reports a missing module with every candidate', runtime: 'python3.11', handler: 'app.handler', entries: [file('main.py')], reason: pyMissing('app') },
  { name: 'python does not take a package directory without __init__.py', runtime: 'python3.11', handler: 'pkg.handler', entries: [dir('pkg/'), file('pkg/other.py')], reason: pyMissing('pkg') },
  { name: 'python reports a missing nested module', runtime: 'python3.11', handler: 'pkg.sub.mod.fn', entries: [file('pkg/sub/other.py')], reason: pyMissing('pkg/sub/mod') },
  { name: 'python rejects a handler without a dot', runtime: 'python3.11', handler: 'app', entries: [file('app.py')], reason: 'Handler "app" must have the form module.function.' },
  { name: 'python rejects a handler with an empty function', runtime: 'python3.11', handler: 'app.', entries: [file('app.py')], reason: 'Handler "app." must have the form module.function.' },
  // Other runtimes are not checked at create time (api.md, Limits).
  { name: 'provided is never checked', runtime: 'provided', handler: 'anything', entries: [], reason: undefined },
];

for (const c of cases) {
  t.test(c.name, async (t) => {
    t.equal(missingHandlerModule(c.runtime, c.handler, c.entries), c.reason);
  });
}
