#!/usr/bin/env node
// `npm test` runs this first: it says exactly which prerequisite is missing (and how to get it)
// instead of letting dozens of tests fail on a connection error.
import { execFileSync } from 'node:child_process';
import net from 'node:net';

const pgUrl = new URL(process.env.GANTRY_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
const redisUrl = new URL(process.env.GANTRY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379');
const images = ['nodejs20', 'nodejs22', 'nodejs24', 'python3.11', 'python3.13', 'ruby3.3', 'java21', 'provided', 'dotnet-mono'].map((id) => `gantry/${id}:latest`);

function reachable(host, port) {
  return new Promise((resolve) => {
    const s = net.connect({ host, port, timeout: 1500 });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
    s.once('timeout', () => (s.destroy(), resolve(false)));
  });
}

function runs(command, args) {
  try {
    execFileSync(command, args, { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}
const docker = (args) => runs('docker', args);

function output(command, args) {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
  } catch {
    return '';
  }
}

const missing = [];
if (!(await reachable(pgUrl.hostname, Number(pgUrl.port || 5432)))) missing.push(`Postgres at ${pgUrl.host} (npm run services)`);
if (!(await reachable(redisUrl.hostname, Number(redisUrl.port || 6379)))) missing.push(`Redis at ${redisUrl.host} (npm run services)`);
if (!docker(['info'])) missing.push('a running Docker engine (npm run services)');
else for (const image of images) if (!docker(['image', 'inspect', image])) missing.push(`the runtime image ${image} (npm run images)`);
// The provided conformance suite compiles a C bootstrap, statically (gcc and libc6-dev).
if (!runs('cc', ['--version'])) missing.push('a C compiler, cc (npm run services)');
// The Go conformance test builds its fixture function with the host's go toolchain.
if (!runs('go', ['version'])) missing.push('the Go toolchain, go (npm run services)');
// The dotnet-mono suites compile their C# fixtures with Mono's compiler.
if (!runs('mcs', ['--version'])) missing.push("Mono's C# compiler, mcs (npm run services)");
// The java21 conformance suite compiles its fixture functions (javac --release 17).
if (!runs('javac', ['-version'])) missing.push('a Java compiler, javac 17 or later (npm run services)');
// The function firewall's tests install and remove iptables rules of their own.
if (!runs('iptables', ['-w', '5', '-S', 'INPUT'])) missing.push('a usable iptables, as root (npm run services)');
// The async robustness test kills and restarts a redis-server of its own (never the shared one).
if (!runs('redis-server', ['--version'])) missing.push('the redis-server binary on PATH (npm run services)');
// The Lambda API's e2e runs Debian's AWS CLI v2 by its path (a v1 `aws` may come first on PATH).
if (!/^aws-cli\/2/.test(output('/usr/bin/aws', ['--version']))) missing.push("Debian's AWS CLI v2 at /usr/bin/aws (npm run services)");
// The console e2e drives Debian's chromium through playwright-core (which never downloads one).
if (!runs(process.env.GANTRY_CHROMIUM ?? '/usr/bin/chromium', ['--headless', '--no-sandbox', '--version'])) missing.push("Debian's chromium at /usr/bin/chromium, or GANTRY_CHROMIUM (npm run services)");

if (missing.length > 0) {
  console.error(`Tests need:\n${missing.map((m) => `  - ${m}`).join('\n')}`);
  process.exit(1);
}
console.log('test prerequisites: Postgres, Redis, Docker, runtime images, cc, go, mcs, javac, redis-server, iptables, the AWS CLI v2 and chromium present');
