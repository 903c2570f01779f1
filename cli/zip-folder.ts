/**
 * A folder as a function's zip. The zip is reproducible — entries sorted, one fixed timestamp,
 * modes reduced to 644/755 — so the same files give the same `codeSha256` on any machine, which
 * is how `deploy` and `up` know whether the code changed without uploading it.
 */
import { createHash } from 'node:crypto';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import path from 'node:path';
import yazl from 'yazl';
import { usageError } from './exit-codes.js';
import { loadIgnoreRules, type IgnoreRules } from './ignore-rules.js';

/** api.md's limits: the server would refuse more, so say so before uploading. */
const MAX_UNZIPPED_BYTES = 250 * 1024 * 1024;
const MAX_ZIP_BYTES = 50 * 1024 * 1024;
const MAX_ENTRIES = 100_000;
/** Built from local fields, so its DOS encoding is the same in every time zone. */
const FIXED_MTIME = new Date(2000, 0, 1, 0, 0, 0);

export interface FolderZip {
  readonly zip: Buffer;
  readonly sha256: string;
  readonly files: number;
}

interface Entry {
  readonly rel: string;
  readonly abs: string;
  readonly kind: 'file' | 'symlink';
  readonly mode: number;
}

export async function zipFolder(dir: string): Promise<FolderZip> {
  const root = path.resolve(dir);
  const st = await lstat(root).catch(() => undefined);
  if (st === undefined || !st.isDirectory()) throw usageError(`no such folder: ${dir}`);
  const entries = await listFiles(root, await loadIgnoreRules(root));
  if (entries.length === 0) throw usageError(`${dir} has no file to deploy (all ignored?)`);
  const zipfile = new yazl.ZipFile();
  let unzipped = 0;
  for (const e of entries) {
    const opts = { mtime: FIXED_MTIME, forceDosTimestamp: true };
    if (e.kind === 'symlink') {
      zipfile.addBuffer(Buffer.from(await readlink(e.abs)), e.rel, { ...opts, mode: 0o120777, compress: false });
      continue;
    }
    const data = await readFile(e.abs);
    unzipped += data.length;
    if (unzipped > MAX_UNZIPPED_BYTES) throw usageError(`${dir} holds more than 250 MiB of files (the unzipped limit)`);
    zipfile.addBuffer(data, e.rel, { ...opts, mode: 0o100000 | ((e.mode & 0o111) !== 0 ? 0o755 : 0o644) });
  }
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    zipfile.outputStream.on('data', (c: Buffer) => chunks.push(c));
    zipfile.outputStream.on('end', () => resolve());
    zipfile.outputStream.on('error', reject);
  });
  zipfile.end();
  await done;
  const zip = Buffer.concat(chunks);
  if (zip.length > MAX_ZIP_BYTES) throw usageError(`the zip of ${dir} is ${(zip.length / 1048576).toFixed(1)} MiB, over the 50 MiB limit`);
  return { zip, sha256: createHash('sha256').update(zip).digest('hex'), files: entries.length };
}

/** Depth first, names sorted by code unit, so the order never depends on the file system. */
export async function listFiles(root: string, rules: IgnoreRules): Promise<Entry[]> {
  const out: Entry[] = [];
  const walk = async (abs: string, rel: string): Promise<void> => {
    const names = (await readdir(abs)).sort();
    for (const name of names) {
      const childAbs = path.join(abs, name);
      const childRel = rel === '' ? name : `${rel}/${name}`;
      const st = await lstat(childAbs);
      if (st.isDirectory()) {
        if (!rules.ignores(`${childRel}/`)) await walk(childAbs, childRel);
      } else if ((st.isFile() || st.isSymbolicLink()) && !rules.ignores(childRel)) {
        out.push({ rel: childRel, abs: childAbs, kind: st.isSymbolicLink() ? 'symlink' : 'file', mode: st.mode });
        if (out.length > MAX_ENTRIES) throw usageError(`more than ${MAX_ENTRIES} files to deploy under ${root}`);
      }
    }
  };
  await walk(root, '');
  return out;
}
