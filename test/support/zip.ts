/**
 * A minimal zip writer (stored entries, no compression) for tests. Zip libraries refuse to write
 * the hostile archives the admin API must reject (`../` names, absolute paths, escaping symlinks),
 * so tests craft them here byte by byte, per the PKWARE APPNOTE layout.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { crc32 } from 'node:zlib';

export interface ZipInput {
  readonly name: string;
  readonly content?: string | Buffer;
  /** Unix mode including the type bits; default 0o100644 (file). Use 0o120777 for a symlink. */
  readonly mode?: number;
}

export function makeZip(entries: readonly ZipInput[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const data = Buffer.isBuffer(e.content) ? e.content : Buffer.from(e.content ?? '', 'utf8');
    const crc = crc32(data) >>> 0;
    const mode = e.mode ?? (e.name.endsWith('/') ? 0o040755 : 0o100644);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(0, 8); // stored
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(name.length, 26);
    locals.push(local, name, data);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by Unix, so the mode bits are read
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE((mode << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);
    offset += 30 + name.length + data.length;
  }
  const centralDir = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(centralDir.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, centralDir, end]);
}

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
