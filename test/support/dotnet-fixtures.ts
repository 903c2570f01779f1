/**
 * The dotnet-mono fixtures, compiled here by the host's Mono compiler (mcs; npm run services
 * installs it) from test/fixtures/functions/dotnet-mono: no binary is committed. Gantry's own
 * Amazon.Lambda.Core (runtime-images/dotnet-mono/runtime) is compiled as the reference the
 * fixtures build against, as a user's build references AWS's package; the zip leaves it out
 * unless `bundleCore`, so both ways a function may ship are covered.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { zipDirectory } from './zip.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const sources = path.join(root, 'test/fixtures/functions/dotnet-mono/contract');
const coreSources = path.join(root, 'runtime-images/dotnet-mono/runtime/Amazon.Lambda.Core');

export interface DotnetFixtures {
  /** Contract.dll, Contract.Serialization.dll and NoSerializer.dll; no Amazon.Lambda.Core. */
  readonly code: Buffer;
  /** The same plus the Amazon.Lambda.Core.dll they were built against. */
  readonly codeWithCore: Buffer;
  readonly cleanup: () => Promise<void>;
}

async function mcs(args: readonly string[]): Promise<void> {
  try {
    await promisify(execFile)('mcs', ['-nologo', ...args], { timeout: 120_000 });
  } catch (err) {
    throw new Error(`cannot compile the C# fixtures with the host's mcs (npm run services installs mono-mcs): ${(err as Error).message}`);
  }
}

export async function buildDotnetFixtures(): Promise<DotnetFixtures> {
  const build = await mkdtemp(path.join(tmpdir(), 'gantry-dotnet-fixture-'));
  const cleanup = () => rm(build, { recursive: true, force: true });
  try {
    const ref = path.join(build, 'ref');
    const out = path.join(build, 'zip');
    await mkdir(ref);
    await mkdir(out);
    const core = path.join(ref, 'Amazon.Lambda.Core.dll');
    const coreFiles = (await readdir(coreSources)).filter((f) => f.endsWith('.cs')).map((f) => path.join(coreSources, f));
    await mcs(['-target:library', `-out:${core}`, ...coreFiles]);
    const serializer = path.join(out, 'Contract.Serialization.dll');
    await mcs(['-target:library', `-r:${core}`, '-r:System.Runtime.Serialization', `-out:${serializer}`, path.join(sources, 'Serializer.cs')]);
    await mcs(['-target:library', `-r:${core}`, '-r:System.Runtime.Serialization', `-r:${serializer}`, `-out:${path.join(out, 'Contract.dll')}`, path.join(sources, 'Function.cs')]);
    await mcs(['-target:library', `-out:${path.join(out, 'NoSerializer.dll')}`, path.join(sources, 'NoSerializer.cs')]);
    const code = await zipDirectory(out);
    await copyFile(core, path.join(out, 'Amazon.Lambda.Core.dll'));
    const codeWithCore = await zipDirectory(out);
    return { code, codeWithCore, cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
