/**
 * The spool's file system seam: what the spool needs from the disk, and the real implementation.
 * `append` returns only once the bytes are on stable storage (write + fdatasync), and a new
 * segment's directory entry is fsync'd at creation, so an acknowledged entry survives power loss.
 */
import { constants } from 'node:fs';
import { mkdir, open, readdir, stat, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

export interface SegmentFile {
  /** Appends `buf` durably. */
  append(buf: Buffer): Promise<void>;
  close(): Promise<void>;
}

export interface SpoolFiles {
  ensureDir(dir: string): Promise<void>;
  /** Segment files of `dir` with their sizes. */
  list(dir: string): Promise<{ name: string; size: number }[]>;
  create(file: string): Promise<SegmentFile>;
  read(file: string, offset: number, length: number): Promise<Buffer>;
  remove(file: string): Promise<void>;
}

export class NodeSpoolFiles implements SpoolFiles {
  async ensureDir(dir: string): Promise<void> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  }

  async list(dir: string): Promise<{ name: string; size: number }[]> {
    const names = await readdir(dir);
    const out: { name: string; size: number }[] = [];
    for (const name of names) out.push({ name, size: (await stat(path.join(dir, name))).size });
    return out;
  }

  async create(file: string): Promise<SegmentFile> {
    const fh = await open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_APPEND, 0o600);
    try {
      await syncDir(path.dirname(file));
    } catch (e) {
      await fh.close().catch(() => undefined);
      throw e;
    }
    return new NodeSegmentFile(fh);
  }

  async read(file: string, offset: number, length: number): Promise<Buffer> {
    const fh = await open(file, 'r');
    try {
      const buf = Buffer.allocUnsafe(length);
      const { bytesRead } = await fh.read(buf, 0, length, offset);
      return buf.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  }

  async remove(file: string): Promise<void> {
    await unlink(file).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
  }
}

class NodeSegmentFile implements SegmentFile {
  constructor(private readonly fh: FileHandle) {}

  async append(buf: Buffer): Promise<void> {
    let off = 0;
    while (off < buf.length) off += (await this.fh.write(buf, off, buf.length - off)).bytesWritten;
    // Measured here: write + fdatasync beats O_DSYNC on an appending file (which syncs per write).
    await this.fh.datasync();
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
