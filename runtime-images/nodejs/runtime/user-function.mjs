// Resolves and loads the handler named by `_HANDLER` (compat.md §1.5), following the official
// Node.js RIC's UserFunction.js:
//   form `[dir/]module.export[.nested…]`; the directory is everything up to the last `/`, the
//   first `.` after it separates the module from a property path walked on the module object.
//   Load order relative to LAMBDA_TASK_ROOT + dir:
//     1. extensionless file with require;
//     2. module.js with require unless the nearest package.json says "type": "module";
//     3. module.js with import() when it does;
//     4. module.mjs with import();
//     5. module.cjs with require;
//     6. normal Node resolution from the task root (packages in node_modules).
//   Top-level await finishes before load() resolves.
//
// Kept separate from the invoke loop so that a stem cell can first learn its handler from the
// platform (GET /gantry/v1/specialize) and then call loadHandler() with it.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { HandlerNotFound, ImportModuleError, MalformedHandlerName, UserCodeSyntaxError } from './errors.mjs';

const require = createRequire(import.meta.url);

const MODULE_NOT_FOUND_CODES = new Set(['MODULE_NOT_FOUND', 'ERR_MODULE_NOT_FOUND']);

/**
 * Load the handler function.
 * @param {string} appRoot absolute task root (LAMBDA_TASK_ROOT)
 * @param {string} fullHandlerString the `_HANDLER` value, e.g. `src/app.handler`
 * @returns {Promise<Function>}
 * @throws MalformedHandlerName | HandlerNotFound | ImportModuleError | UserCodeSyntaxError,
 *         or whatever the module itself throws while it is evaluated.
 */
export async function loadHandler(appRoot, fullHandlerString) {
  const { moduleRoot, moduleName, handlerPath } = parseHandlerString(fullHandlerString);
  let userApp;
  try {
    userApp = await loadUserApp(appRoot, moduleRoot, moduleName);
  } catch (e) {
    if (e instanceof SyntaxError) throw new UserCodeSyntaxError(e);
    if (e && MODULE_NOT_FOUND_CODES.has(e.code)) throw new ImportModuleError(e);
    throw e;
  }
  const handler = resolveNested(userApp, handlerPath);
  if (handler === undefined || handler === null) {
    throw new HandlerNotFound(`${fullHandlerString} is undefined or not exported`);
  }
  if (typeof handler !== 'function') {
    throw new HandlerNotFound(`${fullHandlerString} is not a function`);
  }
  return handler;
}

/**
 * Split `[dir/]module.export[.nested…]`.
 * @returns {{moduleRoot: string, moduleName: string, handlerPath: string}}
 */
export function parseHandlerString(fullHandlerString) {
  if (typeof fullHandlerString !== 'string' || fullHandlerString === '') {
    throw new MalformedHandlerName('Bad handler: _HANDLER is empty');
  }
  if (fullHandlerString.includes('..')) {
    throw new MalformedHandlerName(`'${fullHandlerString}' is not a valid handler name: '..' is not allowed`);
  }
  const slash = fullHandlerString.lastIndexOf('/');
  const moduleRoot = fullHandlerString.slice(0, slash + 1);
  const handlerString = fullHandlerString.slice(slash + 1);
  const match = /^([^.]*)\.(.*)$/.exec(handlerString);
  if (!match) throw new MalformedHandlerName('Bad handler');
  return { moduleRoot, moduleName: match[1], handlerPath: match[2] };
}

async function loadUserApp(appRoot, moduleRoot, moduleName) {
  const lambdaStylePath = path.resolve(appRoot, moduleRoot, moduleName);

  const extensionless = tryRequireFile(lambdaStylePath, '');
  if (extensionless) return extensionless;

  const typeModule = hasPackageJsonTypeModule(path.dirname(lambdaStylePath));
  if (!typeModule) {
    const loaded = tryRequireFile(lambdaStylePath, '.js');
    if (loaded) return loaded;
  }
  const loaded =
    (typeModule && (await tryImport(lambdaStylePath, '.js'))) ||
    (await tryImport(lambdaStylePath, '.mjs')) ||
    tryRequireFile(lambdaStylePath, '.cjs');
  if (loaded) return loaded;

  // Node resolution from the task root, e.g. a handler that lives in a package.
  const resolved = require.resolve(moduleName, { paths: [appRoot, path.resolve(appRoot, moduleRoot)] });
  return require(resolved);
}

function tryRequireFile(file, extension) {
  const p = file + extension;
  return fs.existsSync(p) ? require(p) : undefined;
}

async function tryImport(file, extension) {
  const p = file + extension;
  return fs.existsSync(p) ? import(pathToFileURL(p).href) : undefined;
}

/**
 * The nearest package.json decides: "type": "module" → ESM. The search walks up to `/` and
 * stops at a node_modules directory (as Node's own lookup and the RIC do).
 */
function hasPackageJsonTypeModule(folder) {
  for (let dir = folder; ; dir = path.dirname(dir)) {
    if (path.basename(dir) === 'node_modules') return false;
    const pj = path.join(dir, 'package.json');
    if (fs.existsSync(pj)) {
      try {
        const pkg = JSON.parse(fs.readFileSync(pj, 'utf8'));
        return Boolean(pkg) && pkg.type === 'module';
      } catch {
        return false; // unreadable package.json: ignored for ESM detection, as in the RIC
      }
    }
    if (dir === path.dirname(dir)) return false;
  }
}

function resolveNested(object, nestedProperty) {
  return nestedProperty.split('.').reduce((nested, key) => (nested == null ? undefined : nested[key]), object);
}
