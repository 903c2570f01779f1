/**
 * Resolves an archive's symlinks the way the kernel will once they are on disk: through one
 * another, a link met in a path being followed before any `..` after it. Each link checked on
 * its own may stay inside while a chain of them leaves (`a1/…/a12/l → ../…` and
 * `esc → a1/…/a12/l/../…/etc/passwd`), so the whole set is resolved once the archive is read.
 * Bounded: at most `MAX_HOPS` links followed per resolution (Linux's own limit, so a loop fails
 * here as it would there) and `MAX_STEPS` path components in all, whatever the archive holds.
 */
import { badZip } from './zip-archive-errors.js';

const MAX_HOPS = 40;
const MAX_STEPS = 1_000_000;

/** Throws a ValidationError when a symlink resolves outside the archive root or loops. */
export function checkSymlinkChains(links: ReadonlyMap<string, string>): void {
  let steps = 0;
  for (const [name, target] of links) {
    const resolved = name.split('/').slice(0, -1);
    const pending = target.split('/').reverse();
    let hops = 0;
    while (pending.length > 0) {
      if (++steps > MAX_STEPS) throw badZip('The zip archive has too many symlinks, or chains of them too long, to check.');
      const part = pending.pop() as string;
      if (part === '' || part === '.') continue;
      if (part === '..') {
        if (resolved.length === 0) throw outside(name, target);
        resolved.pop();
        continue;
      }
      resolved.push(part);
      const next = links.get(resolved.join('/'));
      if (next === undefined) continue;
      if (++hops > MAX_HOPS) throw badZip(`Zip entry "${name}" is a symlink that loops or chains through more than ${MAX_HOPS} symlinks.`);
      if (next.startsWith('/')) throw outside(name, target);
      resolved.pop();
      for (const p of next.split('/').reverse()) pending.push(p);
    }
  }
}

function outside(name: string, target: string) {
  return badZip(`Zip entry "${name}" is a symlink to "${target}", which resolves outside the archive through other symlinks.`);
}
