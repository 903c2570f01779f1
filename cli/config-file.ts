/**
 * Where the CLI finds its server: `gantry login` writes `$XDG_CONFIG_HOME/gantry/config.json`
 * (default `~/.config/gantry/config.json`) with mode 0600, since it holds a token; `GANTRY_URL`
 * and `GANTRY_TOKEN` override what it says.
 */
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CliError, EXIT } from './exit-codes.js';

export interface StoredConfig {
  readonly url: string;
  readonly token?: string;
}

export interface Connection {
  readonly url: string;
  readonly token: string;
}

type Env = Readonly<Record<string, string | undefined>>;

export function configPath(env: Env = process.env): string {
  const base = env.XDG_CONFIG_HOME !== undefined && env.XDG_CONFIG_HOME !== '' ? env.XDG_CONFIG_HOME : path.join(env.HOME ?? os.homedir(), '.config');
  return path.join(base, 'gantry', 'config.json');
}

export async function readStoredConfig(env: Env = process.env): Promise<StoredConfig | undefined> {
  const file = configPath(env);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CliError(EXIT.usage, `cannot read ${file}: ${(e as Error).message}`);
  }
  try {
    const v = JSON.parse(text) as Partial<StoredConfig>;
    if (typeof v.url !== 'string') throw new Error('no "url"');
    return typeof v.token === 'string' ? { url: v.url, token: v.token } : { url: v.url };
  } catch (e) {
    throw new CliError(EXIT.usage, `${file} is not a Gantry CLI configuration (${(e as Error).message}); run gantry login again`);
  }
}

/** Written to a temporary file that is 0600 from its creation, then renamed over the old one. */
export async function writeStoredConfig(config: StoredConfig, env: Env = process.env): Promise<string> {
  const file = configPath(env);
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  // The mode given to writeFile is filtered by the umask; the token must never be group-readable.
  await chmod(tmp, 0o600);
  await rename(tmp, file);
  return file;
}

export async function resolveConnection(env: Env = process.env): Promise<Connection> {
  const stored = await readStoredConfig(env);
  const url = nonEmpty(env.GANTRY_URL) ?? stored?.url;
  const token = nonEmpty(env.GANTRY_TOKEN) ?? stored?.token;
  if (url === undefined) throw new CliError(EXIT.auth, 'no Gantry server configured: run gantry login URL --token TOKEN, or set GANTRY_URL and GANTRY_TOKEN');
  if (token === undefined) throw new CliError(EXIT.auth, `no token for ${url}: run gantry login ${url} --token TOKEN, or set GANTRY_TOKEN`);
  return { url: normaliseUrl(url), token };
}

export function normaliseUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new CliError(EXIT.usage, `not a URL: ${url}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new CliError(EXIT.usage, `not an http(s) URL: ${url}`);
  return u.toString().replace(/\/+$/, '');
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}
