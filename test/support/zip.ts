// Archives for tests: the byte-level writer is shared with the bench (stored-zip.mjs).
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { makeZip, type ZipInput } from './stored-zip.mjs';

export { makeZip, type ZipInput };

/** A zip of one `index.js` (CommonJS) with the given source. */
export function nodeZip(source: string, file = 'index.js'): Buffer {
  return makeZip([{ name: file, content: source }]);
}

/**
 * A zip of every file under `dir` (names relative to it, sorted), keeping each file's mode, so
 * an executable `bootstrap` stays executable. `extra` entries are added (or replace same names).
 */
export async function zipDirectory(dir: string, extra: readonly ZipInput[] = []): Promise<Buffer> {
  const entries = new Map<string, ZipInput>();
  const walk = async (rel: string): Promise<void> => {
    for (const d of await readdir(path.join(dir, rel), { withFileTypes: true })) {
      const name = rel === '' ? d.name : `${rel}/${d.name}`;
      if (d.isDirectory()) await walk(name);
      else if (d.isFile()) {
        const full = path.join(dir, name);
        entries.set(name, { name, content: await readFile(full), mode: 0o100000 | ((await stat(full)).mode & 0o777) });
      }
    }
  };
  await walk('');
  for (const e of extra) entries.set(e.name, e);
  return makeZip([...entries.values()].sort((a, b) => a.name.localeCompare(b.name)));
}
