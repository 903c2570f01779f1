// .gantryignore follows .gitignore's rules; what it excludes never reaches the zip.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import yauzl from 'yauzl';
import { ignoreRules } from '../../../cli/ignore-rules.js';
import { listFiles, zipFolder } from '../../../cli/zip-folder.js';

t.test('gitignore semantics: globs, anchors, directories, negation', async (t) => {
  const rules = ignoreRules(['*.log', '/build', 'tmp/', '!keep.log', '# a comment', 'docs/**/*.md'].join('\n'));
  t.ok(rules.ignores('debug.log'));
  t.ok(rules.ignores('deep/dir/debug.log'), 'unanchored pattern matches at any depth');
  t.notOk(rules.ignores('keep.log'), 'negation re-includes');
  t.ok(rules.ignores('build'), 'anchored name at the root');
  t.notOk(rules.ignores('src/build'), 'anchored pattern only at the root');
  t.ok(rules.ignores('tmp/'), 'directory pattern matches the directory');
  t.notOk(rules.ignores('tmp'), 'directory pattern does not match a file of that name');
  t.ok(rules.ignores('docs/a/b.md'));
  t.notOk(rules.ignores('index.js'));
  t.ok(rules.ignores('.git/'), '.git is never shipped');
  t.ok(rules.ignores('.gantryignore'), 'nor the ignore file itself');
});

t.test('the zip holds exactly the files not ignored, and is the same bytes every time', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'gantry-cli-zip-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await mkdir(path.join(dir, 'node_modules', 'dep'), { recursive: true });
  await mkdir(path.join(dir, 'test'), { recursive: true });
  await writeFile(path.join(dir, 'index.js'), 'exports.handler = async () => 1;');
  await writeFile(path.join(dir, 'node_modules', 'dep', 'index.js'), 'module.exports = 2;');
  await writeFile(path.join(dir, 'test', 'a.test.js'), 'x');
  await writeFile(path.join(dir, 'notes.log'), 'x');
  await writeFile(path.join(dir, 'run.sh'), '#!/bin/sh\n', { mode: 0o755 });
  await writeFile(path.join(dir, '.gantryignore'), 'test/\n*.log\n');
  const listed = (await listFiles(dir, ignoreRules('test/\n*.log\n'))).map((e) => e.rel);
  t.same(listed, ['index.js', 'node_modules/dep/index.js', 'run.sh']);
  const a = await zipFolder(dir);
  const b = await zipFolder(dir);
  t.equal(a.sha256, b.sha256, 'reproducible');
  t.equal(a.files, 3);
  const entries = await zipEntries(a.zip);
  t.same(entries.map((e) => e.name), ['index.js', 'node_modules/dep/index.js', 'run.sh']);
  t.equal(entries.find((e) => e.name === 'run.sh')?.mode, 0o755, 'the executable bit survives');
  t.equal(entries.find((e) => e.name === 'index.js')?.mode, 0o644);
});

t.test('a missing folder is a usage error naming it', async (t) => {
  await t.rejects(zipFolder(path.join(tmpdir(), 'gantry-no-such-folder-x')), { exitCode: 2, message: /no such folder/ });
});

function zipEntries(zip: Buffer): Promise<{ name: string; mode: number }[]> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(zip, { lazyEntries: true }, (err, zf) => {
      if (err || !zf) return reject(err);
      const out: { name: string; mode: number }[] = [];
      zf.on('entry', (e: yauzl.Entry) => {
        out.push({ name: e.fileName, mode: (e.externalFileAttributes >>> 16) & 0o777 });
        zf.readEntry();
      });
      zf.on('end', () => resolve(out));
      zf.on('error', reject);
      zf.readEntry();
    });
  });
}
