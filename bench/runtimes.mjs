/**
 * Per-runtime part of the bench (bench/run.mjs, section 4): for every runtime image present, an
 * echo function's cold start (a new container, the first call after create) and its warm latency
 * (direct invoke, sequential, interleaved across runtimes), measured in the same run on the same
 * control plane. `provided` is measured twice: with a bash + curl bootstrap and with a compiled
 * C bootstrap (test/fixtures/functions/provided/c/bootstrap.c, built here with the host's cc).
 * Stem-cell first calls are measured on a second control plane with stem cells on (`benchStemCells`),
 * for the runtimes that can be specialised; `provided` cannot (its program is the zip's bootstrap).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const SHELL_BOOTSTRAP = `#!/bin/bash
set -euo pipefail
API="http://\${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
while true; do
  HEADERS="$(mktemp)"; EVENT="$(mktemp)"
  curl -sS -LD "$HEADERS" -o "$EVENT" "$API/invocation/next"
  REQUEST_ID="$(grep -Fi Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d '[:space:]' | cut -d: -f2)"
  curl -sS -o /dev/null "$API/invocation/$REQUEST_ID/response" --data-binary "@$EVENT"
  rm -f "$HEADERS" "$EVENT"
done
`;

/** What each runtime variant deploys: files of the zip, and the handler. */
async function variants(root, log) {
  const list = [
    { label: 'nodejs20', runtime: 'nodejs20', handler: 'index.handler', files: [{ name: 'index.js', content: 'exports.handler = async (e) => e;\n' }] },
    { label: 'nodejs22', runtime: 'nodejs22', handler: 'index.handler', files: [{ name: 'index.js', content: 'exports.handler = async (e) => e;\n' }] },
    { label: 'nodejs24', runtime: 'nodejs24', handler: 'index.handler', files: [{ name: 'index.js', content: 'exports.handler = async (e) => e;\n' }] },
    { label: 'python3.11', runtime: 'python3.11', handler: 'app.handler', files: [{ name: 'app.py', content: 'def handler(event, context):\n    return event\n' }] },
    { label: 'python3.13', runtime: 'python3.13', handler: 'app.handler', files: [{ name: 'app.py', content: 'def handler(event, context):\n    return event\n' }] },
    { label: 'ruby3.3', runtime: 'ruby3.3', handler: 'app.handler', files: [{ name: 'app.rb', content: 'def handler(event:, context:)\n  event\nend\n' }] },
    { label: 'provided (bash+curl)', runtime: 'provided', handler: 'echo', files: [{ name: 'bootstrap', content: SHELL_BOOTSTRAP, mode: 0o100755 }] },
  ];
  const build = await mkdtemp(path.join(tmpdir(), 'gantry-bench-c-'));
  try {
    const out = path.join(build, 'bootstrap');
    await promisify(execFile)('cc', ['-O2', '-static', '-o', out, path.join(root, 'test/fixtures/functions/provided/c/bootstrap.c')], { timeout: 120_000 });
    list.push({ label: 'provided (C)', runtime: 'provided', handler: 'echo', files: [{ name: 'bootstrap', content: await readFile(out), mode: 0o100755 }] });
  } catch (e) {
    log(`runtimes: no compiled provided bootstrap (cc failed: ${e.message.split('\n')[0]})`);
  } finally {
    await rm(build, { recursive: true, force: true });
  }
  // dotnet-mono: a (Stream) -> Stream echo compiled here with the host's mcs.
  const cs = await mkdtemp(path.join(tmpdir(), 'gantry-bench-cs-'));
  try {
    await writeFile(path.join(cs, 'Echo.cs'), 'namespace Echo { public class Function { public static System.IO.Stream Handler(System.IO.Stream input) { return input; } } }\n');
    await promisify(execFile)('mcs', ['-nologo', '-target:library', `-out:${path.join(cs, 'Echo.dll')}`, path.join(cs, 'Echo.cs')], { timeout: 120_000 });
    list.push({ label: 'dotnet-mono', runtime: 'dotnet-mono', handler: 'Echo::Echo.Function::Handler', files: [{ name: 'Echo.dll', content: await readFile(path.join(cs, 'Echo.dll')) }] });
  } catch (e) {
    log(`runtimes: no dotnet-mono echo (mcs failed: ${e.message.split('\n')[0]})`);
  } finally {
    await rm(cs, { recursive: true, force: true });
  }
  const javaBuild = await mkdtemp(path.join(tmpdir(), 'gantry-bench-java-'));
  try {
    await writeFile(path.join(javaBuild, 'Echo.java'), 'package bench;\npublic class Echo {\n  public Object handle(Object event) { return event; }\n}\n');
    await promisify(execFile)('javac', ['--release', '17', '-d', javaBuild, path.join(javaBuild, 'Echo.java')], { timeout: 120_000 });
    list.push({ label: 'java21', runtime: 'java21', handler: 'bench.Echo::handle', files: [{ name: 'bench/Echo.class', content: await readFile(path.join(javaBuild, 'bench', 'Echo.class')) }] });
  } catch (e) {
    log(`runtimes: no java21 function (javac failed: ${e.message.split('\n')[0]})`);
  } finally {
    await rm(javaBuild, { recursive: true, force: true });
  }
  return list;
}

/**
 * @param {object} d
 * @param {string} d.root repository root
 * @param {(method: string, p: string, body?: unknown) => Promise<any>} d.admin
 * @param {(name: string, p: string) => {name: string, once: () => Promise<{ms: number, headers: object}>, close: () => Promise<void>}} d.invokeTarget
 * @param {(image: string) => Promise<boolean>} d.imagePresent
 * @param {(entries: {name: string, content: string | Buffer, mode?: number}[]) => Buffer} d.makeZip
 * @param {Function} d.interleaved
 * @param {Function} d.runSequential
 * @param {(msg: string) => void} d.log
 * @param {number} d.coldSamples
 * @param {number} d.requests warm requests per runtime
 * @param {number} d.scenarioMs time budget of each runtime's warm requests
 */
export async function benchRuntimes(d) {
  const all = await variants(d.root, d.log);
  const present = [];
  for (const v of all) {
    if (await d.imagePresent(`gantry/${v.runtime}:latest`)) present.push(v);
    else d.log(`runtimes: gantry/${v.runtime}:latest missing, skipped`);
  }
  const tag = randomBytes(3).toString('hex');
  const zip = (v, sample) => d.makeZip([...v.files, { name: 'sample.txt', content: `${tag} ${sample}\n` }]).toString('base64');
  const slug = (v) => v.label.replace(/[^a-z0-9]+/gi, '-').replace(/-$/, '');
  const results = [];
  const targets = [];
  try {
    for (const v of present) {
      d.log(`runtimes: ${v.label}: ${d.coldSamples} cold starts`);
      const cold = [];
      const coldEnd = Date.now() + 60_000;
      for (let i = 0; i < d.coldSamples && Date.now() < coldEnd; i++) {
        const name = `rt-${slug(v)}-cold-${i}`;
        await d.admin('POST', '/v1/functions', { name, runtime: v.runtime, handler: v.handler, code: { zipBase64: zip(v, i) } });
        const t = d.invokeTarget(name, `/v1/functions/${name}/invoke`);
        targets.push(t);
        const first = await t.once();
        cold.push({ ms: first.ms, initMs: Number(first.headers['x-gantry-init-duration-ms'] ?? NaN), cold: first.headers['x-gantry-cold-start'] });
      }
      const name = `rt-${slug(v)}-warm`;
      await d.admin('POST', '/v1/functions', { name, runtime: v.runtime, handler: v.handler, code: { zipBase64: zip(v, 'warm') } });
      const t = d.invokeTarget(v.label, `/v1/functions/${name}/invoke`);
      targets.push(t);
      for (let i = 0; i < 20; i++) await t.once();
      results.push({ v, cold, target: t });
    }
    d.log(`runtimes: warm latency, ${d.requests} sequential requests each, interleaved`);
    const acc = await d.interleaved(results.map((r) => r.target), d.requests, d.runSequential, { maxMs: d.scenarioMs });
    return results.map((r) => ({ label: r.v.label, runtime: r.v.runtime, cold: r.cold, warm: acc[r.target.name] }));
  } finally {
    await Promise.allSettled(targets.map((t) => t.close()));
  }
}

/** The variants a stem cell can serve: one per specialisable runtime (the first of each). */
const STEM_CELL_RUNTIMES = ['nodejs20', 'nodejs22', 'nodejs24', 'python3.11', 'python3.13', 'ruby3.3', 'dotnet-mono', 'java21'];

/**
 * First calls served by a stem cell, per specialisable runtime: before each sample, waits until the
 * control plane reports a ready cell of that runtime (`gantry_stem_cells{runtime}`).
 * @param {object} d as benchRuntimes, plus
 * @param {(runtime: string) => Promise<boolean>} d.waitForStemCell resolves false after its own timeout
 * @param {(name: string, p: string) => {once: () => Promise<{ms: number, headers: object}>, close: () => Promise<void>}} d.invokeTarget
 * @returns {Promise<Record<string, {ms: number, initMs: number, kind: string}[]>>} samples by runtime
 */
export async function benchStemCells(d) {
  const tag = randomBytes(3).toString('hex');
  const out = {};
  const targets = [];
  try {
    for (const v of (await variants(d.root, d.log)).filter((x) => STEM_CELL_RUNTIMES.includes(x.runtime))) {
      if (!(await d.imagePresent(`gantry/${v.runtime}:latest`))) continue;
      d.log(`runtimes: ${v.label}: ${d.coldSamples} first calls on stem cells`);
      const samples = [];
      const end = Date.now() + 60_000;
      for (let i = 0; i < d.coldSamples && Date.now() < end; i++) {
        if (!(await d.waitForStemCell(v.runtime))) d.log(`runtimes: no ${v.runtime} stem cell ready; sampling anyway`);
        const name = `rt-${v.runtime.replace(/[^a-z0-9]+/g, '-')}-stem-${i}`;
        const zip = d.makeZip([...v.files, { name: 'sample.txt', content: `${tag} ${i}\n` }]).toString('base64');
        await d.admin('POST', '/v1/functions', { name, runtime: v.runtime, handler: v.handler, code: { zipBase64: zip } });
        const t = d.invokeTarget(name, `/v1/functions/${name}/invoke`);
        targets.push(t);
        const first = await t.once();
        samples.push({ ms: first.ms, initMs: Number(first.headers['x-gantry-init-duration-ms'] ?? NaN), kind: String(first.headers['x-gantry-cold-start-kind'] ?? 'none') });
      }
      out[v.runtime] = samples;
    }
    return out;
  } finally {
    await Promise.allSettled(targets.map((t) => t.close()));
  }
}

/** Report lines and the JSON part for section 4; `stem` is benchStemCells' result (by runtime). */
export function formatRuntimes(rows, stats, stem = {}) {
  const f = (x, n = 2) => (Number.isFinite(x) ? x.toFixed(n) : '-');
  const pad = (s, n) => String(s).padEnd(n);
  const lines = ['5. Runtimes: echo function, direct invoke (ms). Cold = first call after create: a new container (stem cells off), or a stem cell (stem cells on)'];
  lines.push(`${pad('', 24)}${pad('warm p50', 10)}${pad('warm p99', 10)}${pad('cold p50', 10)}${pad('cold min-max', 14)}${pad('init p50', 10)}${pad('stem p50', 10)}${pad('stem init', 11)}${pad('stem/cold', 11)}n/err`);
  const json = {};
  for (const r of rows) {
    const w = stats(r.warm.samples);
    const c = stats(r.cold.map((x) => x.ms));
    const i = stats(r.cold.map((x) => x.initMs));
    // Only samples a stem cell really served count; the first variant of a runtime owns its row.
    const stemRows = rows.find((x) => x.runtime === r.runtime) === r ? (stem[r.runtime] ?? []).filter((x) => x.kind === 'stem-cell') : [];
    const s = stats(stemRows.map((x) => x.ms));
    const si = stats(stemRows.map((x) => x.initMs));
    const stemCol = stemRows.length > 0 ? f(s.p50, 0) : r.runtime === 'provided' ? 'n/a' : '-';
    lines.push(
      `${pad(r.label, 24)}${pad(f(w.p50), 10)}${pad(f(w.p99), 10)}${pad(f(c.p50, 0), 10)}${pad(`${f(c.min, 0)}-${f(c.max, 0)}`, 14)}${pad(f(i.p50, 0), 10)}${pad(stemCol, 10)}${pad(stemRows.length > 0 ? f(si.p50, 0) : '-', 11)}${pad(stemRows.length > 0 ? f(s.p50 / c.p50, 3) : '-', 11)}${w.n}/${r.warm.errors}`,
    );
    json[r.label] = {
      warmP50: w.p50,
      warmP99: w.p99,
      n: w.n,
      errors: r.warm.errors,
      coldP50: c.p50,
      coldMin: c.min,
      coldMax: c.max,
      initP50: i.p50,
      coldSamples: r.cold.length,
      stemCell: stemRows.length > 0 ? { p50: s.p50, min: s.min, max: s.max, initP50: si.p50, samples: stemRows.length, ofColdP50: s.p50 / c.p50 } : r.runtime === 'provided' ? 'not specialisable' : 'no samples',
    };
  }
  return { lines, json };
}
