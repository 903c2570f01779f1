/**
 * Places a function's code into a stem cell's task directory, which is bind-mounted read-only
 * into that container only: hard links from the node's code cache (same filesystem, so no bytes
 * are copied), a copy where linking is impossible. Symlinks are recreated as they are.
 */
import { copyFile, link, mkdir, readdir, readlink, symlink } from 'node:fs/promises';
import path from 'node:path';

export async function placeCode(fromDir: string, toDir: string): Promise<void> {
  await mkdir(toDir, { recursive: true, mode: 0o755 });
  for (const entry of await readdir(fromDir, { withFileTypes: true })) {
    const src = path.join(fromDir, entry.name);
    const dst = path.join(toDir, entry.name);
    if (entry.isDirectory()) await placeCode(src, dst);
    else if (entry.isSymbolicLink()) await symlink(await readlink(src), dst);
    else await link(src, dst).catch(async (e: unknown) => {
      if ((e as { code?: string }).code !== 'EXDEV') throw e;
      await copyFile(src, dst);
    });
  }
}
