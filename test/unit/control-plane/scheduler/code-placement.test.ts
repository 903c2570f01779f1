import { lstat, mkdir, mkdtemp, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { placeCode } from '../../../../control-plane/scheduler/code-placement.js';

async function tree(t: Test) {
  const root = await mkdtemp(path.join(tmpdir(), 'gantry-place-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const from = path.join(root, 'cache');
  await mkdir(path.join(from, 'lib', 'deep'), { recursive: true });
  await writeFile(path.join(from, 'index.js'), 'top');
  await writeFile(path.join(from, 'lib', 'deep', 'x.js'), 'deep');
  await symlink('lib/deep/x.js', path.join(from, 'alias.js'));
  return { root, from, to: path.join(root, 'cell', 'task') };
}

t.test('places every file and directory, creating the target', async (t) => {
  const { from, to } = await tree(t);
  await placeCode(from, to);
  t.equal(await readFile(path.join(to, 'index.js'), 'utf8'), 'top');
  t.equal(await readFile(path.join(to, 'lib', 'deep', 'x.js'), 'utf8'), 'deep');
});

t.test('hard-links files from the cache instead of copying them', async (t) => {
  const { from, to } = await tree(t);
  await placeCode(from, to);
  const [a, b] = [await stat(path.join(from, 'index.js')), await stat(path.join(to, 'index.js'))];
  t.equal(b.ino, a.ino);
  t.equal(b.nlink, 2);
});

t.test('recreates symlinks as they are', async (t) => {
  const { from, to } = await tree(t);
  await placeCode(from, to);
  t.ok((await lstat(path.join(to, 'alias.js'))).isSymbolicLink());
  t.equal(await readlink(path.join(to, 'alias.js')), 'lib/deep/x.js');
});

t.test('removing the placed copy leaves the cache intact', async (t) => {
  const { from, to } = await tree(t);
  await placeCode(from, to);
  await rm(to, { recursive: true });
  t.equal(await readFile(path.join(from, 'index.js'), 'utf8'), 'top');
});

t.test('a missing source rejects', async (t) => {
  const { root, to } = await tree(t);
  await t.rejects(placeCode(path.join(root, 'missing'), to), { code: 'ENOENT' });
});
