/**
 * Reads and unpacks function zips safely. Rejects what could escape the task root or exhaust the
 * node: absolute paths, `..` segments, symlinks whose target leaves the archive, archives over
 * the api.md limits (checked against the bytes actually inflated, not the headers, which can lie).
 * Symlink targets are checked one by one as they come and then all together, through each other.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, symlink } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl';
import { GantryError } from '../../common/errors.js';
import { checkSymlinkChains } from './symlink-resolution.js';
import { badZip } from './zip-archive-errors.js';


export interface ZipLimits {
  readonly maxZipBytes: number;
  readonly maxUnzippedBytes: number;
}

export const API_ZIP_LIMITS: ZipLimits = { maxZipBytes: 50 * 1024 * 1024, maxUnzippedBytes: 250 * 1024 * 1024 };

export type ZipEntryKind = 'file' | 'directory' | 'symlink';

export interface ZipEntryInfo {
  readonly name: string;
  readonly kind: ZipEntryKind;
  readonly mode: number;
}

export interface ZipManifest {
  readonly entries: readonly ZipEntryInfo[];
  readonly declaredUnzippedBytes: number;
}

const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
const S_IFDIR = 0o040000;
const MAX_SYMLINK_TARGET_BYTES = 4096;

/** Lists and validates every entry without inflating file contents (symlink targets aside). */
export async function readZipManifest(zip: Buffer, limits: ZipLimits): Promise<ZipManifest> {
  checkZipSize(zip, limits);
  const entries: ZipEntryInfo[] = [];
  let declared = 0;
  const seen = new SeenPaths();
  await forEachEntry(zip, async (zf, entry) => {
    const info = await describeEntry(zf, entry, seen);
    declared += entry.uncompressedSize;
    if (declared > limits.maxUnzippedBytes) throw tooLargeUnzipped(limits);
    entries.push(info);
  });
  checkSymlinkChains(seen.linkTargets);
  return { entries, declaredUnzippedBytes: declared };
}

/** Unpacks into `dest` (which must not exist yet); returns the bytes actually written. */
export async function extractZip(zip: Buffer, dest: string, limits: ZipLimits): Promise<number> {
  checkZipSize(zip, limits);
  await mkdir(dest, { recursive: true, mode: 0o755 });
  let written = 0;
  const budget = () => limits.maxUnzippedBytes - written;
  const seen = new SeenPaths();
  await forEachEntry(zip, async (zf, entry) => {
    const info = await describeEntry(zf, entry, seen);
    const target = path.join(dest, info.name);
    if (info.kind === 'directory') {
      await mkdir(target, { recursive: true, mode: 0o755 });
      return;
    }
    await mkdir(path.dirname(target), { recursive: true, mode: 0o755 });
    if (info.kind === 'symlink') {
      await symlink(seen.linkTargets.get(info.name) as string, target);
      return;
    }
    const counter = new ByteBudget(budget(), () => tooLargeUnzipped(limits));
    // Readable by the function's non-root user; executable bits survive for `provided` bootstraps.
    const mode = info.mode & 0o111 ? 0o755 : 0o644;
    await pipeline(await openEntry(zf, entry), counter, createWriteStream(target, { flags: 'wx', mode }));
    written += counter.seen;
  });
  checkSymlinkChains(seen.linkTargets);
  return written;
}

/** Symlinks and parent directories seen so far: nothing may be written through a symlink. */
class SeenPaths {
  private readonly links = new Set<string>();
  /** Each symlink's target, for resolving them through each other once all are known. */
  readonly linkTargets = new Map<string, string>();
  private readonly parents = new Set<string>();
  check(name: string, isLink: boolean): void {
    const parts = name.split('/');
    for (let i = 1; i < parts.length; i++) {
      const prefix = parts.slice(0, i).join('/');
      if (this.links.has(prefix)) throw badZip(`Zip entry "${name}" lies beneath the symlink "${prefix}".`);
      this.parents.add(prefix);
    }
    if (isLink) {
      if (this.parents.has(name)) throw badZip(`Zip entry "${name}" is a symlink over a directory of the archive.`);
      this.links.add(name);
    }
  }
}

async function describeEntry(zf: yauzl.ZipFile, entry: yauzl.Entry, seen: SeenPaths): Promise<ZipEntryInfo> {
  const name = validateName(entry.fileName);
  const unixMode = (entry.externalFileAttributes >>> 16) & 0xffff;
  const isLink = (unixMode & S_IFMT) === S_IFLNK;
  seen.check(name, isLink);
  if (isLink) {
    const linkTarget = await readSmallEntry(zf, entry);
    checkSymlinkTarget(name, linkTarget);
    seen.linkTargets.set(name, linkTarget);
    return { name, kind: 'symlink', mode: unixMode };
  }
  const isDir = entry.fileName.endsWith('/') || (unixMode & S_IFMT) === S_IFDIR;
  return { name, kind: isDir ? 'directory' : 'file', mode: unixMode };
}

function validateName(raw: string): string {
  const name = raw.replace(/\\/g, '/');
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) throw badZip(`Zip entry "${raw}" has an absolute path.`);
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw badZip(`Zip entry "${raw}" has a ".." path segment.`);
  if (parts.length === 0) throw badZip(`Zip entry "${raw}" has an empty name.`);
  return parts.join('/');
}

function checkSymlinkTarget(name: string, linkTarget: string): void {
  if (linkTarget === '' || path.posix.isAbsolute(linkTarget) || linkTarget.includes('\0')) {
    throw badZip(`Zip entry "${name}" is a symlink to "${linkTarget}", outside the archive.`);
  }
  const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(name), linkTarget));
  if (resolved === '..' || resolved.startsWith('../')) {
    throw badZip(`Zip entry "${name}" is a symlink to "${linkTarget}", outside the archive.`);
  }
}

function checkZipSize(zip: Buffer, limits: ZipLimits): void {
  if (zip.length > limits.maxZipBytes) {
    throw new GantryError('RequestTooLarge', `Zipped size must be smaller than ${limits.maxZipBytes} bytes.`, {
      component: 'code',
    });
  }
}

async function forEachEntry(zip: Buffer, visit: (zf: yauzl.ZipFile, e: yauzl.Entry) => Promise<void>): Promise<void> {
  const zf = await new Promise<yauzl.ZipFile>((resolve, reject) => {
    yauzl.fromBuffer(zip, { lazyEntries: true, decodeStrings: true, validateEntrySizes: true, strictFileNames: false }, (err, z) =>
      err || !z ? reject(badZip(`The code is not a valid zip archive (${err?.message ?? 'unreadable'}).`, err)) : resolve(z),
    );
  });
  await new Promise<void>((resolve, reject) => {
    const fail = (e: unknown) => {
      zf.close();
      reject(e instanceof GantryError ? e : describeYauzlError(e));
    };
    zf.on('error', fail);
    zf.on('end', () => resolve());
    zf.on('entry', (entry: yauzl.Entry) => {
      visit(zf, entry).then(() => zf.readEntry(), fail);
    });
    zf.readEntry();
  });
}

function openEntry(zf: yauzl.ZipFile, entry: yauzl.Entry): Promise<NodeJS.ReadableStream> {
  return new Promise((resolve, reject) => {
    zf.openReadStream(entry, (err, stream) => (err || !stream ? reject(err ?? new Error('no stream')) : resolve(stream)));
  });
}

async function readSmallEntry(zf: yauzl.ZipFile, entry: yauzl.Entry): Promise<string> {
  if (entry.uncompressedSize > MAX_SYMLINK_TARGET_BYTES) throw badZip(`Zip entry "${entry.fileName}" is a symlink with an oversized target.`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of await openEntry(zf, entry)) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > MAX_SYMLINK_TARGET_BYTES) throw badZip(`Zip entry "${entry.fileName}" is a symlink with an oversized target.`);
    chunks.push(b);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Counts inflated bytes and fails the stream once the archive's budget is spent. */
class ByteBudget extends Transform {
  seen = 0;
  constructor(
    private readonly limit: number,
    private readonly onExceeded: () => Error,
  ) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.limit) cb(this.onExceeded());
    else cb(null, chunk);
  }
}

/** yauzl validates names itself while decoding; say in our words which rule an entry broke. */
function describeYauzlError(e: unknown): GantryError {
  const code = (e as { code?: string }).code;
  // Filesystem errors name server paths: say what went wrong without them.
  if (code === 'EEXIST') return badZip('The zip archive contains the same path twice.', e);
  if (code !== undefined && /^E[A-Z]+$/.test(code)) return badZip('The zip archive could not be extracted.', e);
  const msg = (e as Error).message;
  if (/absolute path|invalid relative path/.test(msg)) return badZip(`Zip entry escapes the archive root (${msg}).`, e);
  return badZip(`The zip archive is corrupt (${msg}).`, e);
}

function tooLargeUnzipped(limits: ZipLimits): GantryError {
  return new GantryError('RequestTooLarge', `Unzipped size must be smaller than ${limits.maxUnzippedBytes} bytes.`, {
    component: 'code',
  });
}

