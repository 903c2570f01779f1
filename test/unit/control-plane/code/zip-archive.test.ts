import { lstat, mkdtemp, readFile, readlink, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { GantryError } from '../../../../common/errors.js';
import { API_ZIP_LIMITS, extractZip, readZipManifest, type ZipLimits } from '../../../../control-plane/code/zip-archive.js';
import { makeZip, type ZipInput } from '../../../support/zip.js';

const SYMLINK = 0o120777;
const limits = (over: Partial<ZipLimits> = {}): ZipLimits => ({ ...API_ZIP_LIMITS, ...over });

async function tempDir(t: Test): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'gantry-zip-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Runs `p` and returns the GantryError it rejected with (fails the test otherwise). */
async function gantryError(t: Test, p: Promise<unknown>): Promise<GantryError | undefined> {
  try {
    await p;
  } catch (e) {
    t.type(e, GantryError);
    return e as GantryError;
  }
  t.fail('expected a rejection');
  return undefined;
}

t.test('lists every entry of a valid zip with its kind, mode and declared size', async (t) => {
  const zip = makeZip([
    { name: 'index.js', content: 'exports.handler = 1;' },
    { name: 'lib/' },
    { name: 'lib/util.js', content: 'x' },
    { name: 'bootstrap', content: '#!/bin/sh', mode: 0o100755 },
    { name: 'node_modules/.bin/x', content: '../pkg/cli.js', mode: SYMLINK },
  ]);
  t.strictSame(await readZipManifest(zip, limits()), {
    entries: [
      { name: 'index.js', kind: 'file', mode: 0o100644 },
      { name: 'lib', kind: 'directory', mode: 0o040755 },
      { name: 'lib/util.js', kind: 'file', mode: 0o100644 },
      { name: 'bootstrap', kind: 'file', mode: 0o100755 },
      { name: 'node_modules/.bin/x', kind: 'symlink', mode: 0o120777 },
    ],
    declaredUnzippedBytes: 20 + 1 + 9 + 13,
  });
});

t.test('normalizes ./ prefixes and backslashes in entry names', async (t) => {
  const zip = makeZip([{ name: './a/./b.js', content: '1' }, { name: 'c\\d.js', content: '2' }]);
  t.strictSame((await readZipManifest(zip, limits())).entries.map((e) => e.name), ['a/b.js', 'c/d.js']);
});

const deepDirs = Array.from({ length: 12 }, (_, i) => `a${i + 1}`).join('/');

const hostile: readonly { name: string; entries: ZipInput[] }[] = [
  { name: 'a name with a .. segment', entries: [{ name: '../evil.js', content: 'x' }] },
  { name: 'a name with a .. segment in the middle', entries: [{ name: 'a/../../evil.js', content: 'x' }] },
  { name: 'a name with a backslash .. segment', entries: [{ name: 'a\\..\\..\\evil.js', content: 'x' }] },
  { name: 'an absolute name', entries: [{ name: '/etc/x', content: 'x' }] },
  { name: 'a drive-letter name', entries: [{ name: 'C:/evil.js', content: 'x' }] },
  { name: 'a symlink to ../../etc/passwd', entries: [{ name: 'link', content: '../../etc/passwd', mode: SYMLINK }] },
  { name: 'a symlink to /etc/passwd', entries: [{ name: 'link', content: '/etc/passwd', mode: SYMLINK }] },
  { name: 'a symlink to ..', entries: [{ name: 'link', content: '..', mode: SYMLINK }] },
  { name: 'a nested symlink climbing one level too far', entries: [{ name: 'a/b/link', content: '../../../x', mode: SYMLINK }] },
  { name: 'a symlink with an empty target', entries: [{ name: 'link', content: '', mode: SYMLINK }] },
  { name: 'a symlink with an oversized target', entries: [{ name: 'link', content: 'a/'.repeat(2100), mode: SYMLINK }] },
  {
    // Each link stays inside on its own, but the second is created through the first, so the
    // file lands outside the archive root (zip-slip through a symlink chain).
    name: 'a symlink chain that leaves the root through an earlier symlink',
    entries: [
      { name: 'a/up', content: '..', mode: SYMLINK },
      { name: 'a/up/esc', content: '..', mode: SYMLINK },
      { name: 'a/up/esc/pwned.txt', content: 'pwned' },
    ],
  },
  {
    // Each link alone stays inside; followed through the 12-level link, `esc` reaches /etc/passwd.
    name: 'a symlink that leaves the root through a chain of other symlinks',
    entries: [
      { name: `${deepDirs}/l`, content: '../'.repeat(12), mode: SYMLINK },
      { name: 'esc', content: `${deepDirs}/l/${'../'.repeat(12)}etc/passwd`, mode: SYMLINK },
    ],
  },
  {
    name: 'the same chain with the escaping link listed first',
    entries: [
      { name: 'esc', content: `${deepDirs}/l/${'../'.repeat(12)}etc/passwd`, mode: SYMLINK },
      { name: `${deepDirs}/l`, content: '../'.repeat(12), mode: SYMLINK },
    ],
  },
  { name: 'two symlinks pointing at each other', entries: [{ name: 'a', content: 'b', mode: SYMLINK }, { name: 'b', content: 'a', mode: SYMLINK }] },
  { name: 'a symlink to itself', entries: [{ name: 'self', content: './self', mode: SYMLINK }] },
];

for (const c of hostile) {
  t.test(`rejects ${c.name} with a ValidationError when reading the manifest`, async (t) => {
    const e = await gantryError(t, readZipManifest(makeZip(c.entries), limits()));
    t.equal(e?.type, 'ValidationError');
    t.equal(e?.status, 400);
    t.equal(e?.component, 'code');
  });

  t.test(`rejects ${c.name} with a ValidationError and writes nothing outside when extracting`, async (t) => {
    const root = await tempDir(t);
    const e = await gantryError(t, extractZip(makeZip(c.entries), path.join(root, 'task'), limits()));
    t.equal(e?.type, 'ValidationError');
    t.strictSame((await readdir(root)).sort(), ['task'], 'nothing appears next to the task directory');
  });
}

t.test('accepts a symlink that stays inside and extracts it as a symlink', async (t) => {
  const zip = makeZip([
    { name: 'node_modules/pkg/cli.js', content: 'cli', mode: 0o100755 },
    { name: 'node_modules/.bin/x', content: '../pkg/cli.js', mode: SYMLINK },
  ]);
  const dest = path.join(await tempDir(t), 'task');
  await extractZip(zip, dest, limits());
  const link = path.join(dest, 'node_modules/.bin/x');
  t.equal((await lstat(link)).isSymbolicLink(), true);
  t.equal(await readlink(link), '../pkg/cli.js');
  t.equal(await readFile(link, 'utf8'), 'cli');
});

t.test('accepts symlinks that resolve through each other and stay inside', async (t) => {
  const zip = makeZip([
    { name: 'lib/real/index.js', content: 'x' },
    { name: 'lib/current', content: 'real', mode: SYMLINK },
    { name: 'entry', content: 'lib/current/../current/index.js', mode: SYMLINK },
    { name: 'up', content: 'lib/current/..', mode: SYMLINK },
  ]);
  const manifest = await readZipManifest(zip, limits());
  t.equal(manifest.entries.filter((e) => e.kind === 'symlink').length, 3);
  const dest = path.join(await tempDir(t), 'task');
  await extractZip(zip, dest, limits());
  t.equal(await readFile(path.join(dest, 'entry'), 'utf8'), 'x');
});

t.test('extracts file contents and returns the bytes written', async (t) => {
  const zip = makeZip([{ name: 'index.js', content: 'hello' }, { name: 'lib/' }, { name: 'lib/a/b.js', content: 'world!' }]);
  const dest = path.join(await tempDir(t), 'task');
  t.equal(await extractZip(zip, dest, limits()), 11);
  t.equal(await readFile(path.join(dest, 'index.js'), 'utf8'), 'hello');
  t.equal(await readFile(path.join(dest, 'lib/a/b.js'), 'utf8'), 'world!');
  t.equal((await stat(path.join(dest, 'lib'))).isDirectory(), true);
});

const modes: readonly [string, number, number][] = [
  ['keeps an executable file executable (0755)', 0o100755, 0o755],
  ['keeps a file executable by its owner only as 0755', 0o100700, 0o755],
  ['writes a plain file as 0644', 0o100644, 0o644],
  ['writes a group-writable file as 0644', 0o100664, 0o644],
  ['writes a file with no permission bits as 0644', 0o100000, 0o644],
];
for (const [name, zipMode, want] of modes) {
  t.test(name, async (t) => {
    const dest = path.join(await tempDir(t), 'task');
    await extractZip(makeZip([{ name: 'bootstrap', content: '#!/bin/sh', mode: zipMode }]), dest, limits());
    t.equal((await stat(path.join(dest, 'bootstrap'))).mode & 0o777, want);
  });
}

t.test('accepts a zip exactly at maxZipBytes', async (t) => {
  const zip = makeZip([{ name: 'index.js', content: 'x' }]);
  t.equal((await readZipManifest(zip, limits({ maxZipBytes: zip.length }))).entries.length, 1);
});

t.test('rejects a zip over maxZipBytes with RequestTooLarge before reading it', async (t) => {
  const zip = makeZip([{ name: 'index.js', content: 'x' }]);
  for (const run of [
    () => readZipManifest(zip, limits({ maxZipBytes: zip.length - 1 })),
    async () => extractZip(zip, path.join(await tempDir(t), 'task'), limits({ maxZipBytes: zip.length - 1 })),
  ]) {
    const e = await gantryError(t, run());
    t.equal(e?.type, 'RequestTooLarge');
    t.equal(e?.status, 413);
    t.equal(e?.message, `Zipped size must be smaller than ${zip.length - 1} bytes.`);
  }
});

const unzipped: readonly { name: string; sizes: number[]; max: number; ok: boolean }[] = [
  { name: 'one file exactly at the unzipped limit', sizes: [10], max: 10, ok: true },
  { name: 'one file one byte over the unzipped limit', sizes: [11], max: 10, ok: false },
  { name: 'files that only together exceed the unzipped limit', sizes: [6, 5], max: 10, ok: false },
  { name: 'files that together fit the unzipped limit', sizes: [6, 4], max: 10, ok: true },
];
for (const c of unzipped) {
  const zip = makeZip(c.sizes.map((n, i) => ({ name: `f${i}.bin`, content: Buffer.alloc(n, 0x61) })));
  t.test(`${c.ok ? 'accepts' : 'rejects with RequestTooLarge'} ${c.name} in the manifest`, async (t) => {
    const run = readZipManifest(zip, limits({ maxUnzippedBytes: c.max }));
    if (c.ok) return void t.equal((await run).declaredUnzippedBytes, c.sizes.reduce((a, b) => a + b, 0));
    const e = await gantryError(t, run);
    t.equal(e?.type, 'RequestTooLarge');
    t.equal(e?.message, `Unzipped size must be smaller than ${c.max} bytes.`);
  });
  t.test(`${c.ok ? 'accepts' : 'rejects with RequestTooLarge'} ${c.name} when extracting`, async (t) => {
    const run = extractZip(zip, path.join(await tempDir(t), 'task'), limits({ maxUnzippedBytes: c.max }));
    if (c.ok) return void t.equal(await run, c.sizes.reduce((a, b) => a + b, 0));
    const e = await gantryError(t, run);
    t.equal(e?.type, 'RequestTooLarge');
  });
}

const notZips: readonly [string, Buffer][] = [
  ['plain text', Buffer.from('hello, this is not a zip')],
  ['an empty buffer', Buffer.alloc(0)],
  ['a truncated zip', makeZip([{ name: 'index.js', content: 'x' }]).subarray(0, 40)],
];
for (const [what, bytes] of notZips) {
  t.test(`rejects ${what} with a ValidationError`, async (t) => {
    const e = await gantryError(t, readZipManifest(bytes, limits()));
    t.equal(e?.type, 'ValidationError');
    t.match(e?.message, /^The code is not a valid zip archive \(/);
  });
}

t.test('a zip with the same file twice is refused without naming server paths', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'gantry-zip-dup-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const zip = makeZip([{ name: 'index.js', content: 'a' }, { name: 'index.js', content: 'b' }]);
  const err = await extractZip(zip, path.join(dir, 'out'), API_ZIP_LIMITS).then(() => undefined, (e: unknown) => e);
  t.ok(err instanceof GantryError && err.type === 'ValidationError');
  t.notMatch((err as Error).message, dir);
});
