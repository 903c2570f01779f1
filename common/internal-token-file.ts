/**
 * The internal token's file (GANTRY_INTERNAL_TOKEN_FILE), where a token the control plane
 * generated is kept instead of Postgres (which holds only its sha256): the control plane creates
 * it once, gateways started without GANTRY_INTERNAL_TOKEN read it.
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, stat, unlink } from 'node:fs/promises';
import path from 'node:path';

/** As for GANTRY_INTERNAL_TOKEN: shorter is no secret. */
const MIN_TOKEN_CHARS = 32;

/** How errors name the file and what else the operator may do (the encryption key reuses this). */
export interface TokenFileLabel {
  readonly variable: string;
  readonly alternative: string;
}

const INTERNAL: TokenFileLabel = { variable: 'GANTRY_INTERNAL_TOKEN_FILE', alternative: 'set GANTRY_INTERNAL_TOKEN' };

/** The token in `file`, or undefined while there is no file; throws on a file holding no token. */
export async function readTokenFile(file: string, label: TokenFileLabel = INTERNAL): Promise<string | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`${label.variable} ${file} cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)}): give this process read access, or ${label.alternative}`);
  }
  // A file written by hand often ends in a newline; the token never contains whitespace.
  const token = text.trim();
  if (token.length < MIN_TOKEN_CHARS || /\s/.test(token)) {
    throw new Error(`${label.variable} ${file} holds no token (one line of at least ${MIN_TOKEN_CHARS} characters without spaces)`);
  }
  return token;
}

/**
 * Creates `file` holding `token`, unless it exists; returns the token the file then holds (another
 * process's, when it was first). The token is written to a temporary file of mode
 * 0600 (O_EXCL), synced, and linked into place: link never replaces a file, so two starts racing
 * agree on the winner's token, and no reader ever sees a partial file.
 */
export async function createTokenFile(file: string, token: string, label: TokenFileLabel = INTERNAL): Promise<string> {
  const dir = path.dirname(file);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}`);
  const fh = await open(tmp, 'wx', 0o600);
  try {
    try {
      await fh.writeFile(`${token}\n`);
      // Root (the compose control plane) hands the file to the directory's owner: that is the
      // user the directory was made for, e.g. the gateway's in a volume both share.
      if (process.getuid?.() === 0) {
        const owner = await stat(dir);
        if (owner.uid !== 0) await fh.chown(owner.uid, owner.gid);
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
    await link(tmp, file).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'EEXIST') throw e;
    });
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
  // The caller stores the token's hash next: the file's name must survive a crash too.
  const d = await open(dir, 'r');
  await d.sync().finally(() => d.close());
  const stored = await readTokenFile(file, label);
  if (stored === undefined) throw new Error(`${label.variable} ${file} vanished while it was created`);
  return stored;
}
