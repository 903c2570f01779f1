/**
 * The java21 fixture functions (test/fixtures/functions/java21), compiled here by the host's
 * javac with --release 17 into a temporary directory that the test removes, and packed in the
 * layouts Lambda accepts:
 * - bundled: classes at the zip's root plus lib/aws-lambda-java-core.jar (the function carries its
 *   own copy of the library it was compiled against);
 * - jar: the classes as one jar, uploaded as the deployment package itself (no library bundled);
 * - libJar: a zip holding lib/app.jar only;
 * - rootJar: a zip holding app.jar at its root.
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Test } from 'tap';
import { makeZip, zipDirectory } from './zip.js';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/functions/java21');
const run = promisify(execFile);
/** javac on a busy 2-core machine: generous, but bounded. */
const COMPILE_TIMEOUT_MS = 180_000;

export interface JavaPackages {
  readonly bundled: Buffer;
  readonly jar: Buffer;
  readonly libJar: Buffer;
  readonly rootJar: Buffer;
}

async function sources(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const d of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (d.isFile() && d.name.endsWith('.java')) out.push(path.join(d.parentPath, d.name));
  }
  return out.sort();
}

async function javac(classpath: string | undefined, out: string, files: string[]): Promise<void> {
  const cpArgs = classpath === undefined ? [] : ['-cp', classpath];
  await run('javac', ['--release', '17', '-encoding', 'UTF-8', '-nowarn', ...cpArgs, '-d', out, ...files], { timeout: COMPILE_TIMEOUT_MS });
}

async function jar(file: string, dir: string): Promise<void> {
  await run('jar', ['--create', '--file', file, '-C', dir, '.'], { timeout: COMPILE_TIMEOUT_MS });
}

/** Compiles once per test file; the build directory goes away with the test. */
export async function buildJavaFixtures(t: Test): Promise<JavaPackages> {
  const build = await mkdtemp(path.join(tmpdir(), 'gantry-java-fixtures-'));
  t.teardown(() => rm(build, { recursive: true, force: true }));
  const core = path.join(build, 'core');
  const classes = path.join(build, 'classes');
  const coreJar = path.join(build, 'aws-lambda-java-core.jar');
  const appJar = path.join(build, 'app.jar');
  try {
    await javac(undefined, core, await sources(path.join(fixtures, 'core')));
    await jar(coreJar, core);
    const functionSources = ['contract', 'extra', 'events'].map((d) => sources(path.join(fixtures, d)));
    await javac(coreJar, classes, (await Promise.all(functionSources)).flat());
    await jar(appJar, classes);
  } catch (err) {
    t.fail(`cannot compile the java21 fixtures with the host's javac (npm run services installs a JDK): ${(err as Error).message}`);
    throw err;
  }
  const bundledDir = path.join(build, 'bundled');
  await cp(classes, bundledDir, { recursive: true });
  await mkdir(path.join(bundledDir, 'lib'));
  await cp(coreJar, path.join(bundledDir, 'lib', 'aws-lambda-java-core.jar'));
  const appJarBytes = await readFile(appJar);
  return {
    bundled: await zipDirectory(bundledDir),
    jar: appJarBytes,
    libJar: makeZip([{ name: 'lib/app.jar', content: appJarBytes }]),
    rootJar: makeZip([{ name: 'app.jar', content: appJarBytes }]),
  };
}
