// The token is a secret: the configuration file is 0600 whatever the umask, under XDG_CONFIG_HOME.
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { configPath, resolveConnection, writeStoredConfig } from '../../../cli/config-file.js';

t.test('login writes the file with mode 0600 under XDG_CONFIG_HOME', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'gantry-cli-config-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const env = { XDG_CONFIG_HOME: dir, HOME: '/nonexistent' };
  const old = process.umask(0o000);
  try {
    const file = await writeStoredConfig({ url: 'http://127.0.0.1:9000', token: 'secret-token' }, env);
    t.equal(file, path.join(dir, 'gantry', 'config.json'));
    t.equal((await stat(file)).mode & 0o777, 0o600, 'only the owner can read it, even with umask 000');
    t.same(JSON.parse(await readFile(file, 'utf8')), { url: 'http://127.0.0.1:9000', token: 'secret-token' });
    // Written again over an existing file: still 0600.
    await writeStoredConfig({ url: 'http://127.0.0.1:9001', token: 't2' }, env);
    t.equal((await stat(file)).mode & 0o777, 0o600);
  } finally {
    process.umask(old);
  }
  t.same(await resolveConnection(env), { url: 'http://127.0.0.1:9001', token: 't2' });
});

t.test('without XDG_CONFIG_HOME the file is ~/.config/gantry/config.json', async (t) => {
  t.equal(configPath({ HOME: '/home/u' }), '/home/u/.config/gantry/config.json');
  t.equal(configPath({ HOME: '/home/u', XDG_CONFIG_HOME: '' }), '/home/u/.config/gantry/config.json');
});

t.test('GANTRY_URL and GANTRY_TOKEN override the file; nothing configured is an auth error', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'gantry-cli-config-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const env = { XDG_CONFIG_HOME: dir };
  await t.rejects(resolveConnection(env), { exitCode: 3, message: /no Gantry server configured/ });
  await writeStoredConfig({ url: 'http://127.0.0.1:9000', token: 'from-file' }, env);
  t.same(await resolveConnection({ ...env, GANTRY_TOKEN: 'from-env' }), { url: 'http://127.0.0.1:9000', token: 'from-env' });
  t.same(await resolveConnection({ ...env, GANTRY_URL: 'http://127.0.0.1:7000/' }), { url: 'http://127.0.0.1:7000', token: 'from-file' });
  await t.rejects(resolveConnection({ XDG_CONFIG_HOME: dir, GANTRY_URL: 'ftp://x' }), { exitCode: 2, message: /not an http/ });
});
