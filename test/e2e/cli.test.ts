// The gantry CLI, built (dist/cli/main.js) and run as a user runs it, against a real stack: deploy
// a folder, invoke, update, up twice, follow logs, and the one-line errors with their exit codes.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { eventually, startStack } from '../support/stack.js';

const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
// Two followers per node, so the bound is reached in a test.
const stack = await startStack(t, { env: { GANTRY_LOG_MAX_FOLLOWERS: '2' } });
const work = await mkdtemp(path.join(tmpdir(), 'gantry-cli-e2e-'));
t.teardown(() => rm(work, { recursive: true, force: true }));
const configHome = path.join(work, 'config');

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: work, XDG_CONFIG_HOME: configHome, GANTRY_URL: stack.controlPlaneUrl, GANTRY_TOKEN: stack.token, ...extra };
}

function start(args: readonly string[], extraEnv: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, [CLI, ...args], { env: env(extraEnv), cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
}

function gantry(args: readonly string[], extraEnv: Record<string, string> = {}, timeoutMs = 120_000): Promise<Run> {
  const child = start(args, extraEnv);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) => child.on('close', (code) => (clearTimeout(timer), resolve({ code, stdout, stderr }))));
}

async function folder(name: string, files: Record<string, string>): Promise<string> {
  const dir = path.join(work, name);
  await mkdir(dir, { recursive: true });
  for (const [f, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, f)), { recursive: true });
    await writeFile(path.join(dir, f), text);
  }
  return dir;
}

/** One line on stderr, naming what went wrong. */
function oneLineError(t: Test, r: Run, code: number, pattern: RegExp): void {
  t.equal(r.code, code, `exit code ${code}: ${r.stderr}`);
  t.equal(r.stderr.trimEnd().split('\n').length, 1, `one line: ${JSON.stringify(r.stderr)}`);
  t.match(r.stderr, pattern);
}


await t.test('deploy a folder, invoke it, update it, and deploy unchanged code as a no-op', async (t) => {
  const dir = await folder('hello', {
    'index.js': `exports.handler = async (e) => { console.log('hello ran'); return { v: 1, got: e }; };`,
    'test/big.txt': 'not shipped',
    '.gantryignore': 'test/\n',
  });
  const created = await gantry(['--json', 'deploy', dir, '--name', 'hello', '--runtime', 'nodejs20', '--handler', 'index.handler', '--memory', '256', '--env', 'GREETING=hi']);
  t.equal(created.code, 0, created.stderr);
  const c = JSON.parse(created.stdout) as { outcome: string; function: { name: string; memoryMb: number; environment: Record<string, string>; codeSha256: string } };
  t.equal(c.outcome, 'created');
  t.equal(c.function.memoryMb, 256);
  t.same(c.function.environment, { GREETING: 'hi' });

  const inv = await gantry(['invoke', 'hello', '--data', '{"x":1}', '--tail']);
  t.equal(inv.code, 0, inv.stderr);
  t.same(JSON.parse(inv.stdout), { v: 1, got: { x: 1 } });
  t.match(inv.stderr, /hello ran/, '--tail prints the invocation\'s log');
  t.match(inv.stderr, /REPORT RequestId/);

  await writeFile(path.join(dir, 'index.js'), `exports.handler = async () => ({ v: 2, a: process.env.GREETING });`);
  const updated = await gantry(['--json', 'deploy', dir, '--name', 'hello', '--env', 'GREETING=hey']);
  t.equal(updated.code, 0, updated.stderr);
  const u = JSON.parse(updated.stdout) as { outcome: string; function: { codeSha256: string } };
  t.equal(u.outcome, 'updated');
  t.not(u.function.codeSha256, c.function.codeSha256);
  const inv2 = await gantry(['--json', 'invoke', 'hello']);
  t.equal(inv2.code, 0, inv2.stderr);
  const r2 = JSON.parse(inv2.stdout) as { result: unknown; invocationId: string; coldStart: boolean };
  t.same(r2.result, { v: 2, a: 'hey' });
  t.match(r2.invocationId, /^[0-9a-f-]{36}$/);

  const again = await gantry(['--json', 'deploy', dir, '--name', 'hello']);
  t.equal(again.code, 0, again.stderr);
  t.equal((JSON.parse(again.stdout) as { outcome: string }).outcome, 'unchanged', 'the same files give the same zip');

  const ls = await gantry(['--json', 'ls']);
  t.equal(ls.code, 0);
  t.same((JSON.parse(ls.stdout) as { functions: { name: string }[] }).functions.map((f) => f.name), ['hello']);
  const table = await gantry(['ls']);
  t.match(table.stdout, /^NAME\s+RUNTIME\s+HANDLER/);
  t.match(table.stdout, /\nhello\s+nodejs20\s+index\.handler\s+256 MB/);
});

await t.test('a failing function exits 4, after printing its error', async (t) => {
  const dir = await folder('fails', { 'index.js': `exports.handler = async () => { throw new TypeError('nope'); };` });
  t.equal((await gantry(['deploy', dir, '--name', 'fails', '--runtime', 'nodejs20', '--handler', 'index.handler'])).code, 0);
  const r = await gantry(['invoke', 'fails']);
  t.equal(r.code, 4, r.stderr);
  t.match(JSON.parse(r.stdout), { errorType: 'TypeError', errorMessage: 'nope' });
  oneLineError(t, r, 4, /^gantry: FunctionError: the function failed \(Unhandled\)/);
});

await t.test('logs --follow prints a new line within 1 s of the invoke that wrote it', async (t) => {
  const dir = await folder('chatty', { 'index.js': `exports.handler = async (e) => { console.log('marker ' + e.n); return e.n; };` });
  t.equal((await gantry(['deploy', dir, '--name', 'chatty', '--runtime', 'nodejs20', '--handler', 'index.handler'])).code, 0);
  // Warm, and a stored line for the follower to print first: once it has, its stream is open.
  t.equal((await gantry(['invoke', 'chatty', '--data', '{"n":0}'])).code, 0);
  t.ok(await eventually(async () => (await gantry(['--json', 'logs', 'chatty'])).stdout.includes('marker 0'), 10_000, 100), 'the first line is stored');
  const follower = start(['--json', 'logs', 'chatty', '--follow', '--since', '10m']);
  let out = '';
  follower.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => follower.on('close', (code) => resolve(code)));
  t.teardown(() => void follower.kill('SIGKILL'));
  t.ok(await eventually(async () => out.includes('marker 0'), 10_000), 'stored lines first');
  for (const n of [1, 2]) {
    const res = await stack.admin('POST', '/v1/functions/chatty/invoke', { n });
    t.equal(res.status, 200);
    const invoked = Date.now();
    const seen = await eventually(async () => out.includes(`marker ${n}`), 1_000, 10);
    t.ok(seen, `line ${n} seen ${Date.now() - invoked} ms after the invoke returned (at most 1000)`);
  }
  const lines = out.trim().split('\n').map((l) => JSON.parse(l) as { message: string; stream: string; invocationId: string });
  t.equal(lines.filter((l) => l.message.endsWith('marker 1')).length, 1, 'each line once');
  t.ok(lines.every((l) => typeof l.invocationId === 'string' && (l.stream === 'stdout' || l.stream === 'stderr')), '--json prints one line object per line');
  follower.kill('SIGTERM');
  t.equal(await exited, 0, 'SIGTERM ends the follower cleanly');
});

await t.test('the follow endpoint: an event stream, bounded per node, follow validated', async (t) => {
  const url = `${stack.controlPlaneUrl}/v1/functions/chatty/logs`;
  const auth = { authorization: `Bearer ${stack.token}` };
  const bad = await fetch(`${url}?follow=maybe`, { headers: auth });
  t.equal(bad.status, 400);
  t.equal(((await bad.json()) as { error: { type: string } }).error.type, 'ValidationError');
  const streams = new AbortController();
  t.teardown(() => streams.abort());
  const open = [await fetch(`${url}?follow=true`, { headers: auth, signal: streams.signal }), await fetch(`${url}?follow=true`, { headers: auth, signal: streams.signal })];
  for (const r of open) {
    t.equal(r.status, 200);
    t.match(r.headers.get('content-type'), /^text\/event-stream/);
  }
  const third = await gantry(['logs', 'chatty', '--follow']);
  oneLineError(t, third, 1, /^gantry: ServiceUnavailable: Too many log followers/);
  streams.abort();
  // The node frees the places as the streams close.
  t.ok(await eventually(async () => {
    const r = await fetch(`${url}?follow=true`, { headers: auth, signal: AbortSignal.timeout(2_000) }).catch(() => undefined);
    const ok = r?.status === 200;
    await r?.body?.cancel().catch(() => undefined);
    return ok;
  }, 5_000, 50));
});

await t.test('up applies gantry.yml, and a second up plans nothing', async (t) => {
  await folder('site/fn', { 'index.js': `exports.handler = async () => ({ statusCode: 200, body: 'from up' });` });
  const file = path.join(work, 'site', 'gantry.yml');
  const yml = (memory: number) => `functions:
  site:
    code: ./fn
    runtime: nodejs20
    handler: index.handler
    memoryMb: ${memory}
    schedules:
      - expression: rate(1 day)
        input: { source: up }
apis:
  web:
    routes:
      - routeKey: GET /page
        function: site
      - routeKey: GET /hello
        function: hello
`;
  await writeFile(file, yml(128));
  const first = await gantry(['--json', 'up', '-f', file, '--yes']);
  t.equal(first.code, 0, first.stderr);
  const p1 = JSON.parse(first.stdout) as { changes: { action: string; kind: string }[]; applied: boolean };
  t.equal(p1.applied, true);
  t.same(p1.changes.map((c) => `${c.action} ${c.kind}`), ['create function', 'create schedule', 'create api', 'create route', 'create route']);
  const routes = (await (await stack.admin('GET', '/v1/apis/web/routes')).json()) as { routes: { routeKey: string }[] };
  t.same(routes.routes.map((r) => r.routeKey).sort(), ['GET /hello', 'GET /page']);
  const page = await eventually(async () => (await fetch(`${stack.gatewayUrl}/web/page`).then((r) => r.text())) === 'from up', 20_000, 200);
  t.ok(page, 'the route serves the function');

  const second = await gantry(['up', '-f', file]);
  t.equal(second.code, 0, second.stderr);
  t.equal(second.stdout.trim(), 'No changes: the server matches the file.');
  const secondJson = await gantry(['--json', 'up', '-f', file]);
  t.same(JSON.parse(secondJson.stdout), { changes: [], applied: false });

  await writeFile(file, yml(256));
  const noTty = await gantry(['up', '-f', file]);
  t.match(noTty.stdout, /~ function site \(memoryMb: 128 → 256\)/);
  t.match(noTty.stdout, /Plan: 0 to create, 1 to update, 0 to delete\./);
  oneLineError(t, noTty, 5, /not applied: no terminal to ask on; pass --yes/);
  t.equal(((await (await stack.admin('GET', '/v1/functions/site')).json()) as { memoryMb: number }).memoryMb, 128, 'nothing changed unconfirmed');
});

await t.test('bad input: one line, the server\'s error type, the documented exit code', async (t) => {
  const dir = await folder('plain', { 'index.js': 'exports.handler = async () => 1;' });
  oneLineError(t, await gantry(['deploy', dir, '--name', 'x1', '--runtime', 'cobol85', '--handler', 'index.handler']), 1, /^gantry: ValidationError: /);
  oneLineError(t, await gantry(['deploy', path.join(work, 'nowhere'), '--name', 'x2', '--runtime', 'nodejs20', '--handler', 'index.handler']), 2, /^gantry: no such folder: /);
  oneLineError(t, await gantry(['ls'], { GANTRY_TOKEN: 'wrong-token-wrong-token-wrong-token' }), 3, /^gantry: Unauthorized: /);
  oneLineError(t, await gantry(['invoke', 'nosuch']), 1, /^gantry: ResourceNotFound: /);
  oneLineError(t, await gantry(['invoke', 'hello', '--data', '{nope']), 2, /^gantry: the event is not valid JSON/);
  oneLineError(t, await gantry(['deploy', dir, '--name', 'x3', '--memory', 'lots']), 2, /--memory lots: give a whole number/);
  oneLineError(t, await gantry(['frobnicate']), 2, /^gantry: unknown command 'frobnicate'/);
  const bad = path.join(work, 'bad.yml');
  await writeFile(bad, 'functions:\n  f:\n    code: ./plain\n    runtime: nodejs20\n    handler: index.handler\n    timeoutMs: -5\n');
  oneLineError(t, await gantry(['up', '-f', bad, '--yes']), 2, /^gantry: .*bad\.yml: functions\.f\.timeoutMs: must be >= 1\n$/);
  oneLineError(t, await gantry(['ls'], { GANTRY_URL: 'http://127.0.0.1:1' }), 1, /^gantry: cannot reach http:\/\/127\.0\.0\.1:1/);
});

await t.test('login stores the URL and token with mode 0600; later commands use them', async (t) => {
  const bare = { GANTRY_URL: '', GANTRY_TOKEN: '' };
  oneLineError(t, await gantry(['ls'], bare), 3, /no Gantry server configured/);
  oneLineError(t, await gantry(['login', stack.controlPlaneUrl, '--token', 'not-the-token-not-the-token-0000'], bare), 3, /Unauthorized/);
  const login = await gantry(['login', stack.controlPlaneUrl, '--token', stack.token], bare);
  t.equal(login.code, 0, login.stderr);
  t.equal((await stat(path.join(configHome, 'gantry', 'config.json'))).mode & 0o777, 0o600);
  const ls = await gantry(['--json', 'ls'], bare);
  t.equal(ls.code, 0, ls.stderr);
  t.ok((JSON.parse(ls.stdout) as { functions: unknown[] }).functions.length > 0);
  const rmed = await gantry(['rm', 'fails'], bare);
  t.equal(rmed.code, 0, rmed.stderr);
  t.equal((await stack.admin('GET', '/v1/functions/fails')).status, 404);
});
