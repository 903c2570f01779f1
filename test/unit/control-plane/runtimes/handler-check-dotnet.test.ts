// The create-time handler check for .NET (dotnet-mono, dotnet8): Assembly::Namespace.Class::Method,
// with Assembly.dll or Assembly.exe at the zip's root. A missing class or method is the runtime's
// to report at invoke (LambdaValidationException), as on Lambda.
import t from 'tap';
import type { ZipEntryInfo } from '../../../../control-plane/code/zip-archive.js';
import { missingHandlerModule } from '../../../../control-plane/runtimes/handler-check.js';

const file = (name: string): ZipEntryInfo => ({ name, kind: 'file', mode: 0o100644 });
const dir = (name: string): ZipEntryInfo => ({ name, kind: 'directory', mode: 0o040755 });
const form = (h: string) => `Handler "${h}" must have the form Assembly::Namespace.Class::Method.`;
const missing = (a: string) => `The code has no assembly "${a}" at its root (looked for ${a}.dll, ${a}.exe).`;

const cases: readonly { name: string; runtime: string; handler: string; entries: ZipEntryInfo[]; reason: string | undefined }[] = [
  { name: 'finds the assembly dll', runtime: 'dotnet-mono', handler: 'MyApp::MyApp.Function::Handler', entries: [file('MyApp.dll'), file('Newtonsoft.Json.dll')], reason: undefined },
  { name: 'finds an exe assembly', runtime: 'dotnet-mono', handler: 'MyApp::MyApp.Function::Handler', entries: [file('MyApp.exe')], reason: undefined },
  { name: 'takes a dotted assembly name whole', runtime: 'dotnet-mono', handler: 'My.App::My.App.Function::Handler', entries: [file('My.App.dll')], reason: undefined },
  { name: 'trims spaces around the parts as the runtime does', runtime: 'dotnet-mono', handler: ' MyApp :: MyApp.Function :: Handler ', entries: [file('MyApp.dll')], reason: undefined },
  { name: 'accepts a full method signature as the method', runtime: 'dotnet-mono', handler: 'MyApp::MyApp.Function::System.String Handler(System.IO.Stream)', entries: [file('MyApp.dll')], reason: undefined },
  { name: 'the same check for dotnet8', runtime: 'dotnet8', handler: 'MyApp::MyApp.Function::Handler', entries: [file('MyApp.dll')], reason: undefined },
  { name: 'reports a missing assembly', runtime: 'dotnet-mono', handler: 'MyApp::MyApp.Function::Handler', entries: [file('Other.dll')], reason: missing('MyApp') },
  { name: 'does not look below the root', runtime: 'dotnet-mono', handler: 'MyApp::MyApp.Function::Handler', entries: [dir('bin/'), file('bin/MyApp.dll')], reason: missing('MyApp') },
  { name: 'is case-sensitive, as the file system is', runtime: 'dotnet-mono', handler: 'MyApp::MyApp.Function::Handler', entries: [file('myapp.dll')], reason: missing('MyApp') },
  { name: 'does not take a directory named like the assembly', runtime: 'dotnet-mono', handler: 'MyApp::MyApp.Function::Handler', entries: [dir('MyApp.dll/')], reason: missing('MyApp') },
  { name: 'rejects a Node-style handler', runtime: 'dotnet-mono', handler: 'index.handler', entries: [file('index.dll')], reason: form('index.handler') },
  { name: 'rejects two parts', runtime: 'dotnet-mono', handler: 'MyApp::Handler', entries: [file('MyApp.dll')], reason: form('MyApp::Handler') },
  { name: 'rejects four parts', runtime: 'dotnet-mono', handler: 'A::B::C::D', entries: [file('A.dll')], reason: form('A::B::C::D') },
  { name: 'rejects an empty type', runtime: 'dotnet-mono', handler: 'MyApp::::Handler', entries: [file('MyApp.dll')], reason: form('MyApp::::Handler') },
  { name: 'rejects an empty method', runtime: 'dotnet-mono', handler: 'MyApp::MyApp.Function:: ', entries: [file('MyApp.dll')], reason: form('MyApp::MyApp.Function:: ') },
  { name: 'rejects an empty handler', runtime: 'dotnet8', handler: '', entries: [file('MyApp.dll')], reason: form('') },
];

for (const c of cases) {
  t.test(c.name, async (t) => {
    t.equal(missingHandlerModule(c.runtime, c.handler, c.entries), c.reason);
  });
}
