import t from 'tap';
import type { ZipEntryInfo } from '../../../../control-plane/code/zip-archive.js';
import { missingHandlerModule } from '../../../../control-plane/runtimes/handler-check.js';

const file = (name: string): ZipEntryInfo => ({ name, kind: 'file', mode: 0o100644 });
const dir = (name: string): ZipEntryInfo => ({ name, kind: 'directory', mode: 0o040755 });
const link = (name: string): ZipEntryInfo => ({ name, kind: 'symlink', mode: 0o120777 });
const exe = (name: string): ZipEntryInfo => ({ name, kind: 'file', mode: 0o100755 });

const nodeMissing = (m: string) => `The code has no file for handler module "${m}" (looked for ${m}, ${m}.js, ${m}.mjs, ${m}.cjs).`;
const noBootstrap = 'The code has no file "bootstrap" at its root; a provided runtime starts that executable.';
const notExecutable = 'The file "bootstrap" is not executable; zip it with its executable bit (chmod +x bootstrap).';
const rbMissing = (f: string) => `The code has no file for handler file "${f}" (looked for ${f}.rb, ${f}.so).`;
const rbForm = (h: string) => `Handler "${h}" must have the form file.method or file.Module::Class.method.`;
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
  // Ruby (AWS's Ruby runtime): file.method or file.Module::Class.method, split at every dot.
  { name: 'ruby finds app.rb for app.handler', runtime: 'ruby3.3', handler: 'app.handler', entries: [file('app.rb')], reason: undefined },
  { name: 'ruby finds app.rb for a class method', runtime: 'ruby3.3', handler: 'app.Billing::Invoices.create', entries: [file('app.rb')], reason: undefined },
  { name: 'ruby finds a nested file for src/app.handler', runtime: 'ruby3.3', handler: 'src/app.handler', entries: [dir('src/'), file('src/app.rb')], reason: undefined },
  { name: 'ruby finds a compiled extension', runtime: 'ruby3.3', handler: 'app.handler', entries: [file('app.so')], reason: undefined },
  { name: 'ruby reports a missing file with every candidate', runtime: 'ruby3.3', handler: 'app.handler', entries: [file('main.rb')], reason: rbMissing('app') },
  { name: 'ruby does not take app.py for app.handler', runtime: 'ruby3.3', handler: 'app.handler', entries: [file('app.py')], reason: rbMissing('app') },
  { name: 'ruby rejects a handler without a dot', runtime: 'ruby3.3', handler: 'app', entries: [file('app.rb')], reason: rbForm('app') },
  { name: 'ruby rejects four parts', runtime: 'ruby3.3', handler: 'app.A.B.c', entries: [file('app.rb')], reason: rbForm('app.A.B.c') },
  { name: 'ruby rejects an empty method', runtime: 'ruby3.3', handler: 'app.', entries: [file('app.rb')], reason: rbForm('app.') },
  { name: 'ruby rejects an empty class', runtime: 'ruby3.3', handler: 'app..handler', entries: [file('app.rb')], reason: rbForm('app..handler') },
  { name: 'ruby reads app.rb.handler as file app, class rb (looked up at invoke, as on Lambda)', runtime: 'ruby3.3', handler: 'app.rb.handler', entries: [file('app.rb')], reason: undefined },
  // go1.x on provided: without a bootstrap, the executable the handler names.
  { name: 'provided accepts the executable a go1.x handler names', runtime: 'provided', handler: 'hello', entries: [exe('hello')], reason: undefined },
  { name: 'provided accepts a go1.x executable in a directory', runtime: 'provided', handler: 'bin/hello', entries: [dir('bin/'), exe('bin/hello')], reason: undefined },
  { name: 'provided rejects a go1.x executable without the exec bit', runtime: 'provided', handler: 'hello', entries: [file('hello')], reason: 'The file "hello" is not executable; zip it with its executable bit (chmod +x hello).' },
  { name: 'provided does not take a handler that leaves the task root', runtime: 'provided', handler: '../hello', entries: [exe('hello')], reason: noBootstrap },
  { name: 'provided does not take a directory the handler names', runtime: 'provided', handler: 'bin', entries: [dir('bin'), exe('bin/hello')], reason: noBootstrap },
  { name: 'provided prefers bootstrap to the executable the handler names', runtime: 'provided', handler: 'hello', entries: [file('bootstrap'), exe('hello')], reason: notExecutable },
  // provided: an executable bootstrap at the root, whatever the handler string.
  { name: 'provided accepts an executable bootstrap', runtime: 'provided', handler: 'anything', entries: [exe('bootstrap')], reason: undefined },
  { name: 'provided accepts a symlinked bootstrap', runtime: 'provided', handler: 'function.handler', entries: [link('bootstrap'), exe('bin/app')], reason: undefined },
  { name: 'provided rejects a zip without bootstrap', runtime: 'provided', handler: 'function.handler', entries: [exe('function.sh')], reason: noBootstrap },
  { name: 'provided rejects a bootstrap below the root', runtime: 'provided', handler: 'x', entries: [dir('bin/'), exe('bin/bootstrap')], reason: noBootstrap },
  { name: 'provided rejects a bootstrap directory', runtime: 'provided', handler: 'x', entries: [dir('bootstrap'), exe('bootstrap/run')], reason: noBootstrap },
  { name: 'provided rejects a bootstrap without the exec bit', runtime: 'provided', handler: 'x', entries: [file('bootstrap')], reason: notExecutable },
  { name: 'provided accepts a bootstrap executable by others only', runtime: 'provided', handler: 'x', entries: [{ name: 'bootstrap', kind: 'file', mode: 0o100641 }], reason: undefined },
  // Runtimes the catalog does not know are refused before this check; it passes them.
  { name: 'an unknown runtime is not checked', runtime: 'go1.x', handler: 'anything', entries: [], reason: undefined },
];

for (const c of cases) {
  t.test(c.name, async (t) => {
    t.equal(missingHandlerModule(c.runtime, c.handler, c.entries), c.reason);
  });
}
