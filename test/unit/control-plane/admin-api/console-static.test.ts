// The console's files at /console/: the page with its content security policy, hashed assets
// cached for good, and hostile paths answered as the caller's error (never a 500, never a file
// outside the console's folder).
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import express from 'express';
import t, { type Test } from 'tap';
import { createLogger } from '../../../../common/logger.js';
import { consoleRouter } from '../../../../control-plane/admin-api/console-static.js';
import { errorHandler, notFoundHandler, wellFormedTarget } from '../../../../control-plane/admin-api/express-helpers.js';

async function serve(t: Test, dir: string | undefined): Promise<string> {
  const app = express();
  app.use(wellFormedTarget);
  app.use(consoleRouter(dir));
  app.use(notFoundHandler());
  app.use(errorHandler(createLogger({ level: 'silent', name: 'console-static-test' })));
  const server = app.listen(0, '127.0.0.1');
  t.teardown(() => new Promise((resolve) => server.close(resolve)));
  await new Promise((resolve) => server.once('listening', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const root = await mkdtemp(path.join(tmpdir(), 'gantry-console-'));
t.teardown(() => rm(root, { recursive: true, force: true }));
const dir = path.join(root, 'console');
await mkdir(path.join(dir, 'assets'), { recursive: true });
await writeFile(path.join(dir, 'index.html'), '<!doctype html><title>console</title>');
await writeFile(path.join(dir, 'assets', 'index-abc.js'), 'console.log(1)');
await writeFile(path.join(root, 'secret.txt'), 'outside the console folder');

t.test('the page, its assets and the redirect', async (t) => {
  const base = await serve(t, dir);
  const redirect = await fetch(`${base}/console`, { redirect: 'manual' });
  t.equal(redirect.status, 301);
  t.equal(redirect.headers.get('location'), '/console/');
  const page = await fetch(`${base}/console/`);
  t.equal(page.status, 200);
  t.match(await page.text(), /<title>console/);
  t.match(page.headers.get('content-security-policy') ?? '', /default-src 'self'/);
  t.equal(page.headers.get('cache-control'), 'no-cache');
  const asset = await fetch(`${base}/console/assets/index-abc.js`);
  t.equal(asset.status, 200);
  t.match(asset.headers.get('cache-control') ?? '', /immutable/);
});

t.test('missing files and hostile paths are 4xx in the api.md shape', async (t) => {
  const base = await serve(t, dir);
  for (const p of ['/console/nope.js', '/console/%2e%2e/secret.txt', '/console/..%2fsecret.txt', '/console/assets/..%2f..%2fsecret.txt', '/console/%00', '/console/%E0%A4%A']) {
    const res = await fetch(base + p);
    t.ok(res.status >= 400 && res.status < 500, `${p}: ${res.status}`);
    const text = await res.text();
    t.notMatch(text, /outside the console folder/, `${p} does not leave the folder`);
    t.match(JSON.parse(text), { error: { type: String, message: String } }, `${p}: api.md's error shape`);
  }
});

t.test('an unbuilt console says so', async (t) => {
  const base = await serve(t, undefined);
  const res = await fetch(`${base}/console/`);
  t.equal(res.status, 404);
  t.match(await res.json(), { error: { type: 'ResourceNotFound', message: /not built/ } });
});
