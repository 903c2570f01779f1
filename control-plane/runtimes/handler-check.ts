/**
 * The create-time handler check of api.md: for the nodejs, python and ruby runtimes, a zip with no
 * file that can hold the handler's module is rejected with 400; for provided, a zip without an executable
 * `bootstrap` at its root (the extraction keeps the exec bit); for .NET, a handler not of the form
 * `Assembly::Namespace.Class::Method` or a zip without that assembly at its root. Anything subtler (a missing export,
 * a syntax error, a bootstrap that cannot run) is left to the runtime, which reports it as an
 * init error at invoke, as Lambda does.
 */
import type { ZipEntryInfo } from '../code/zip-archive.js';

/** A reason string when the zip cannot hold the handler's module, else undefined. */
export function missingHandlerModule(runtime: string, handler: string, entries: readonly ZipEntryInfo[]): string | undefined {
  const names = new Set(entries.filter((e) => e.kind !== 'directory').map((e) => e.name));
  const dirs = new Set<string>();
  for (const e of entries) {
    const parts = e.name.split('/');
    const depth = e.kind === 'directory' ? parts.length : parts.length - 1;
    for (let i = 1; i <= depth; i++) dirs.add(parts.slice(0, i).join('/'));
  }
  if (runtime.startsWith('nodejs')) return checkNode(handler, names, dirs);
  if (runtime.startsWith('python')) return checkPython(handler, names);
  if (runtime.startsWith('ruby')) return checkRuby(handler, names);
  if (runtime === 'provided') return checkBootstrap(handler, entries);
  if (runtime === 'dotnet-mono' || runtime === 'dotnet8') return checkDotnet(handler, names);
  return undefined;
}

const NO_BOOTSTRAP = 'The code has no file "bootstrap" at its root; a provided runtime starts that executable.';

/**
 * `provided` runs $LAMBDA_TASK_ROOT/bootstrap whatever the handler says (it is only _HANDLER). A
 * zip without one may instead hold the executable the handler names, as Lambda's go1.x ran it
 * (handler = the executable's name); gantry-relay starts that one then.
 */
function checkBootstrap(handler: string, entries: readonly ZipEntryInfo[]): string | undefined {
  const bootstrap = entries.find((e) => e.name === 'bootstrap');
  if (bootstrap === undefined) {
    const named = goExecutable(handler, entries);
    if (named === undefined) return NO_BOOTSTRAP;
    if ((named.mode & 0o111) === 0) return `The file "${named.name}" is not executable; zip it with its executable bit (chmod +x ${named.name}).`;
    return undefined;
  }
  if (bootstrap.kind === 'directory') return NO_BOOTSTRAP;
  // A symlink's own mode says nothing about its target: the runtime reports a bad one at invoke.
  if (bootstrap.kind === 'file' && (bootstrap.mode & 0o111) === 0) {
    return 'The file "bootstrap" is not executable; zip it with its executable bit (chmod +x bootstrap).';
  }
  return undefined;
}

/** The regular file a go1.x-style handler names (a path inside the zip), if the zip has it. */
function goExecutable(handler: string, entries: readonly ZipEntryInfo[]): ZipEntryInfo | undefined {
  if (handler === '' || handler.startsWith('/') || handler.split('/').some((s) => s === '' || s === '.' || s === '..')) return undefined;
  return entries.find((e) => e.name === handler && e.kind === 'file');
}

function checkNode(handler: string, names: Set<string>, dirs: Set<string>): string | undefined {
  const slash = handler.lastIndexOf('/');
  const dir = handler.slice(0, slash + 1);
  const rest = handler.slice(slash + 1);
  const dot = rest.indexOf('.');
  if (dot <= 0 || dot === rest.length - 1) return `Handler "${handler}" must have the form [dir/]module.export.`;
  const modulePath = dir + rest.slice(0, dot);
  const candidates = ['', '.js', '.mjs', '.cjs'].map((ext) => modulePath + ext);
  if (candidates.some((c) => names.has(c))) return undefined;
  // Node resolution from the task root: a package in node_modules may hold the module.
  if (dirs.has(`node_modules/${modulePath}`) || names.has(`node_modules/${modulePath}.js`)) return undefined;
  return `The code has no file for handler module "${modulePath}" (looked for ${candidates.join(', ')}).`;
}

/**
 * Ruby (AWS's Ruby runtime): `file.method` or `file.Class.method` (`Class` may be `Module::Class`),
 * split at every dot; `file` is required from the task root, so `file.rb` must be in the zip.
 */
function checkRuby(handler: string, names: Set<string>): string | undefined {
  const parts = handler.split('.');
  if ((parts.length !== 2 && parts.length !== 3) || parts.some((p) => p === '')) {
    return `Handler "${handler}" must have the form file.method or file.Module::Class.method.`;
  }
  const file = parts[0] as string;
  const candidates = [`${file}.rb`, `${file}.so`];
  if (candidates.some((c) => names.has(c))) return undefined;
  return `The code has no file for handler file "${file}" (looked for ${candidates.join(', ')}).`;
}

function checkPython(handler: string, names: Set<string>): string | undefined {
  const dot = handler.lastIndexOf('.');
  if (dot <= 0 || dot === handler.length - 1) return `Handler "${handler}" must have the form module.function.`;
  const modulePath = handler.slice(0, dot).replace(/\./g, '/');
  const candidates = [`${modulePath}.py`, `${modulePath}/__init__.py`, `${modulePath}.pyc`];
  if (candidates.some((c) => names.has(c))) return undefined;
  if ([...names].some((n) => n.startsWith(`${modulePath}.`) && n.endsWith('.so'))) return undefined;
  return `The code has no file for handler module "${modulePath}" (looked for ${candidates.join(', ')}).`;
}

/** .NET loads `Assembly::Namespace.Class::Method` from Assembly.dll (or .exe) at the zip's root. */
function checkDotnet(handler: string, names: Set<string>): string | undefined {
  const parts = handler.split('::').map((p) => p.trim());
  if (parts.length !== 3 || parts.some((p) => p === '')) return `Handler "${handler}" must have the form Assembly::Namespace.Class::Method.`;
  const assembly = parts[0] as string;
  const candidates = [`${assembly}.dll`, `${assembly}.exe`];
  if (candidates.some((c) => names.has(c))) return undefined;
  return `The code has no assembly "${assembly}" at its root (looked for ${candidates.join(', ')}).`;
}
