// The web console in a real browser (Debian's chromium driven by playwright-core, which never
// downloads a browser), against a real stack: sign in, deploy a zip from a file input, invoke,
// see the result and the function's log line, open usage and see the charts with data. The page
// must load nothing from any other host. On a failure the page is saved under test/artifacts/.
// Needs `npm run build` first (the control plane serves dist/console).
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import t, { type Test } from 'tap';
import { startStack } from '../support/stack.js';
import { nodeZip } from '../support/zip.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CONSOLE_DIR = path.join(ROOT, 'dist', 'console');
const ARTIFACTS = path.join(ROOT, 'test', 'artifacts');
const CHROMIUM = process.env.GANTRY_CHROMIUM ?? '/usr/bin/chromium';

if (!existsSync(path.join(CONSOLE_DIR, 'index.html'))) throw new Error('dist/console is missing: run npm run build first');
if (!existsSync(CHROMIUM)) throw new Error(`no chromium at ${CHROMIUM} (npm run services installs Debian's)`);

const HANDLER = `exports.handler = async (event) => {
  console.log('console-e2e-line ' + event.who);
  return { hello: event.who };
};`;

const stack = await startStack(t);
const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
t.teardown(() => browser.close());
const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
const page: Page = await context.newPage();
const base = new URL(stack.controlPlaneUrl);
const foreign: string[] = [];
page.on('request', (r) => {
  const u = new URL(r.url());
  if (u.protocol !== 'data:' && u.host !== base.host) foreign.push(r.url());
});
const pageErrors: string[] = [];
page.on('pageerror', (e) => pageErrors.push(String(e)));

/** Runs a step; when it fails, keeps a screenshot of the page as it was. */
async function step(t: Test, name: string, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    await mkdir(ARTIFACTS, { recursive: true });
    const file = path.join(ARTIFACTS, `console-${name.replace(/[^a-z0-9]+/gi, '-')}.png`);
    await page.screenshot({ path: file, fullPage: true }).catch(() => undefined);
    t.comment(`screenshot: ${file}`);
    throw e;
  }
  if (!t.passing()) {
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, `console-${name.replace(/[^a-z0-9]+/gi, '-')}.png`), fullPage: true }).catch(() => undefined);
  }
}

await t.test('the built console references no other host', async (t) => {
  const files = [path.join(CONSOLE_DIR, 'index.html'), ...(await readdir(path.join(CONSOLE_DIR, 'assets'))).map((f) => path.join(CONSOLE_DIR, 'assets', f))];
  for (const f of files.filter((f) => /\.(html|css)$/.test(f))) {
    const text = await readFile(f, 'utf8');
    t.notMatch(text, /(src|href)\s*=\s*["']?(https?:)?\/\//i, `${path.basename(f)} loads nothing by absolute URL`);
    t.notMatch(text, /url\(\s*["']?(https?:)?\/\//i, `${path.basename(f)} has no remote url()`);
    t.notMatch(text, /@import/i, `${path.basename(f)} imports no stylesheet`);
  }
  const html = await readFile(path.join(CONSOLE_DIR, 'index.html'), 'utf8');
  t.match(html, /src="\/console\/assets\/[^"]+\.js"/, 'the bundle is served from /console/assets');
});

await t.test('sign in: a wrong token shows the server error, the right one opens the console', async (t) => {
  await step(t, 'sign-in', async () => {
    const res = await page.goto(`${stack.controlPlaneUrl}/console`);
    t.equal(res?.status(), 200, '/console redirects to the page');
    t.match(res?.headers()['content-security-policy'] ?? '', /default-src 'self'/);
    await page.fill('input[name=token]', 'not-the-token');
    await page.click('button[type=submit]');
    const error = page.locator('.error');
    await error.waitFor({ timeout: 10_000 });
    t.equal(await error.getAttribute('data-error-type'), 'Unauthorized');
    await page.fill('input[name=token]', stack.token);
    await page.click('button[type=submit]');
    await page.locator('nav').waitFor({ timeout: 10_000 });
    await page.getByText('No functions yet').waitFor({ timeout: 10_000 });
    t.equal(await page.evaluate(() => (globalThis as unknown as { sessionStorage: { getItem(k: string): string | null } }).sessionStorage.getItem('gantry.token')), stack.token, 'kept for the tab only');
  });
});

await t.test('deploy a zip from the browser; bad input shows the ValidationError', async (t) => {
  await step(t, 'deploy', async () => {
    await page.click('nav >> text=Deploy');
    await page.locator('select[name=runtime] option[value=nodejs20]').waitFor({ state: 'attached', timeout: 10_000 });
    await page.fill('input[name=name]', 'bad name!');
    await page.selectOption('select[name=runtime]', 'nodejs20');
    await page.fill('input[name=handler]', 'index.handler');
    await page.setInputFiles('input[name=zip]', { name: 'fn.zip', mimeType: 'application/zip', buffer: nodeZip(HANDLER) });
    await page.click('form.deploy button[type=submit]');
    const error = page.locator('.error');
    await error.waitFor({ timeout: 10_000 });
    t.equal(await error.getAttribute('data-error-type'), 'ValidationError');
    t.match(await error.textContent(), /name/);

    await page.fill('input[name=name]', 'browser-hello');
    await page.click('form.deploy button[type=submit]');
    await page.waitForURL(/#\/functions\/browser-hello$/, { timeout: 30_000 });
    await page.locator('dl.config').getByText('index.handler').waitFor({ timeout: 10_000 });
    const fn = (await (await stack.admin('GET', '/v1/functions/browser-hello')).json()) as { runtime: string; codeSize: number };
    t.equal(fn.runtime, 'nodejs20');
    t.equal(fn.codeSize, nodeZip(HANDLER).length, 'the zip arrived byte for byte');
  });
});

await t.test('invoke: the result, its log tail, the live log and the invocation list', async (t) => {
  await step(t, 'invoke', async () => {
    await page.fill('textarea[name=invoke-input]', '{not json');
    await page.click('button:text-is("Invoke")');
    await page.getByText('The input is not JSON').waitFor({ timeout: 5_000 });

    await page.fill('textarea[name=invoke-input]', '{"who": "browser"}');
    await page.click('button:text-is("Invoke")');
    const result = page.locator('.invoke-result');
    await result.waitFor({ timeout: 60_000 });
    t.equal(await result.getAttribute('data-status'), '200');
    t.equal(await result.getAttribute('data-function-error'), '');
    t.match(await result.locator('pre.output').textContent(), /"hello": "browser"/);
    t.match(await result.locator('pre.log-tail').textContent(), /console-e2e-line browser/, 'the log tail of this call');
    await page.locator('pre.logs').getByText('console-e2e-line browser').waitFor({ timeout: 20_000 });
    t.pass('the live log shows the line');
    t.match(await page.locator('pre.logs').getAttribute('data-mode'), /^(streaming|polling)$/, 'following the log');
    await page.fill('textarea[name=invoke-input]', '{"who": "again"}');
    await page.click('button:text-is("Invoke")');
    await page.locator('pre.logs').getByText('console-e2e-line again').waitFor({ timeout: 10_000 });
    t.pass('a new line arrives while the page stays open');
    await page.locator('table.invocations td.good', { hasText: 'succeeded' }).first().waitFor({ timeout: 20_000 });
    t.pass('the invocation is listed as succeeded');
  });
});

await t.test('versions and aliases appear on the function page', async (t) => {
  t.equal((await stack.admin('POST', '/v1/functions/browser-hello/versions', { description: 'first' })).status, 201);
  t.equal((await stack.admin('POST', '/v1/functions/browser-hello/aliases', { name: 'live', functionVersion: '1' })).status, 201);
  await step(t, 'versions', async () => {
    await page.reload();
    await page.locator('table.versions td', { hasText: 'first' }).waitFor({ timeout: 10_000 });
    await page.locator('table.aliases td', { hasText: 'live' }).waitFor({ timeout: 10_000 });
    t.pass('version 1 and alias live are shown');
  });
});

await t.test('usage: charts per day and per function, with data', async (t) => {
  await step(t, 'usage', async () => {
    await page.click('nav >> text=Usage');
    const chart = page.locator('.usage-function .chart[data-points] canvas').first();
    const requests = page.locator('.usage-function table.usage tr', { hasText: 'browser-hello' }).locator('td').nth(1);
    const counted = async () => (await chart.isVisible()) && (await requests.count()) > 0 && (await requests.textContent())?.trim() === '2';
    const deadline = Date.now() + 30_000;
    // The ledger reaches Postgres shortly after each call; refresh until both calls have.
    for (let i = 0; i < 60 && !(await counted()) && Date.now() < deadline; i++) {
      await page.click('section button:text-is("Refresh")');
      await page.locator('.usage-function table.usage td', { hasText: /^2$/ }).first().waitFor({ timeout: 1_000 }).catch(() => undefined);
    }
    await chart.waitFor({ timeout: 1_000 });
    t.equal((await requests.textContent())?.trim(), '2', 'both requests of the function');
    t.ok(Number(await page.locator('.usage-function .chart[data-chart=requests]').getAttribute('data-points')) >= 1);
    await page.locator('.usage-day .chart[data-points] canvas').first().waitFor({ timeout: 5_000 });
    const box = await chart.boundingBox();
    t.ok(box !== null && box.width > 100 && box.height > 100, 'the canvas is drawn at size');
  });
});

await t.test('APIs and routes are listed', async (t) => {
  t.equal((await stack.admin('POST', '/v1/apis', { name: 'shop' })).status, 201);
  t.equal((await stack.admin('POST', '/v1/apis/shop/routes', { routeKey: 'GET /hello', function: 'browser-hello' })).status, 201);
  await step(t, 'apis', async () => {
    await page.click('nav >> text=APIs');
    await page.locator('.api', { hasText: 'shop' }).locator('code', { hasText: 'GET /hello' }).waitFor({ timeout: 10_000 });
    t.pass('the route is shown');
  });
});

t.test('the page loaded nothing from another host and threw nothing', async (t) => {
  t.same(foreign, []);
  t.same(pageErrors, []);
});
