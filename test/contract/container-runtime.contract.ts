/**
 * The ContainerRuntime conformance suite: what control-plane/containers/container-runtime.ts
 * promises, checked the same way against every implementation (the fake the scheduler tests use,
 * and Docker), so the fake cannot drift from the engine it stands in for. Each implementation has
 * one test file that builds a ContractSubject and calls `containerRuntimeContract`.
 *
 * A subject turns a behaviour (keep running, exit with a code, run out of memory, print) into a
 * spec; with Docker the container's own process does it, with the fake `act` makes it happen.
 */
import { randomUUID } from 'node:crypto';
import type { Test } from 'tap';
import {
  ContainerRuntimeError,
  type ContainerExit,
  type ContainerId,
  type ContainerRuntime,
  type ContainerRuntimeErrorKind,
  type ContainerSpec,
} from '../../control-plane/containers/container-runtime.js';

export type ContractBehaviour =
  | { readonly kind: 'run' }
  | { readonly kind: 'exit'; readonly code: number }
  | { readonly kind: 'oom' }
  /** Writes `out-<marker>\n` to stdout and `err-<marker>\n` to stderr as it starts, then runs on. */
  | { readonly kind: 'print'; readonly marker: string };

export interface ContractSubject {
  readonly runtime: ContainerRuntime;
  /** The same implementation with its engine unreachable. */
  readonly down: ContainerRuntime;
  /** An image that is present, and labels inspectImage must report for it (a subset suffices). */
  readonly image: string;
  readonly imageLabels: Readonly<Record<string, string>>;
  /** An image that is not present. */
  readonly missingImage: string;
  /** Labels unique to this run: every container the suite starts carries them (cleanup finds them). */
  readonly labels: Readonly<Record<string, string>>;
  /** Prefix for network names; the subject removes networks with it at the end. */
  readonly networkPrefix: string;
  /** A spec that runs `behaviour`, on `network` (default none), carrying `labels`. */
  spec(name: string, behaviour: ContractBehaviour, labels: Readonly<Record<string, string>>, network?: string): Promise<ContainerSpec>;
  /** Makes `behaviour` happen in a started container (the fake's part; Docker's process acts alone). */
  act(id: ContainerId, behaviour: ContractBehaviour): void;
  /** Bound on waiting for a container's exit or output. */
  readonly waitMs: number;
}

/** What destroy() of a running container makes waitForExit report: SIGKILL. */
const KILLED: ContainerExit = { exitCode: 137, oomKilled: false };

export function containerRuntimeContract(t: Test, s: ContractSubject): void {
  const run = randomUUID().slice(0, 8);
  let seq = 0;
  const name = (what: string) => `gantry-contract-${run}-${what}-${++seq}`;
  const labelled = (extra: Record<string, string> = {}) => ({ ...s.labels, ...extra });
  const start = async (what: string, behaviour: ContractBehaviour, extra: Record<string, string> = {}, output?: Parameters<ContainerRuntime['start']>[1]) => {
    const id = await s.runtime.start(await s.spec(name(what), behaviour, labelled(extra)), output);
    s.act(id, behaviour);
    return id;
  };
  const within = <T>(what: string, p: Promise<T>): Promise<T> => bounded(what, p, s.waitMs);

  t.test('ping answers true while the engine is up, false when it is not', async (t) => {
    t.equal(await s.runtime.ping(), true);
    t.equal(await s.down.ping(), false);
  });

  t.test('a started container is listed by its labels, with them; others are not', async (t) => {
    const tag = randomUUID();
    const a = await start('list-a', { kind: 'run' }, { 'gantry.contract.tag': tag, 'gantry.contract.role': 'a' });
    const b = await start('list-b', { kind: 'run' }, { 'gantry.contract.tag': tag, 'gantry.contract.role': 'b' });
    t.teardown(() => Promise.all([s.runtime.destroy(a), s.runtime.destroy(b)]));
    const both = await s.runtime.listManaged({ 'gantry.contract.tag': tag });
    t.strictSame(both.map((c) => c.id).sort(), [a, b].sort());
    const onlyA = await s.runtime.listManaged({ 'gantry.contract.tag': tag, 'gantry.contract.role': 'a' });
    t.strictSame(onlyA.map((c) => c.id), [a], 'every given label must match');
    t.match(onlyA[0]?.labels, { ...s.labels, 'gantry.contract.tag': tag, 'gantry.contract.role': 'a' }, 'with the labels it was started with');
    t.strictSame(await s.runtime.listManaged({ 'gantry.contract.tag': tag, 'gantry.contract.role': 'c' }), []);
    t.strictSame(await s.runtime.listManaged({ 'gantry.contract.tag': randomUUID() }), []);
  });

  t.test('destroy kills a running container: its wait reports SIGKILL; it is no longer listed; again is fine', async (t) => {
    const tag = randomUUID();
    const id = await start('destroy', { kind: 'run' }, { 'gantry.contract.tag': tag });
    const exit = s.runtime.waitForExit(id);
    t.strictSame((await s.runtime.listManaged({ 'gantry.contract.tag': tag })).map((c) => c.id), [id]);
    await s.runtime.destroy(id);
    t.strictSame(await within('the exit of a destroyed container', exit), KILLED);
    t.strictSame(await s.runtime.listManaged({ 'gantry.contract.tag': tag }), []);
    await s.runtime.destroy(id);
    t.pass('a second destroy of the same container succeeds');
    await Promise.all([s.runtime.destroy(id), s.runtime.destroy(id)]);
    t.pass('concurrent destroys of a gone container succeed');
  });

  t.test('removing a container that never existed succeeds; waiting on it reports a stop without code', async (t) => {
    const ghost = `gantry-contract-${run}-never-there` as ContainerId;
    await s.runtime.destroy(ghost);
    t.pass('destroy of a missing container resolves');
    t.strictSame(await within('wait of a missing container', s.runtime.waitForExit(ghost)), { exitCode: null, oomKilled: false });
  });

  t.test('a process that exits reports its code; the stopped container stays listed until destroyed', async (t) => {
    const tag = randomUUID();
    const id = await start('exit', { kind: 'exit', code: 3 }, { 'gantry.contract.tag': tag });
    t.teardown(() => s.runtime.destroy(id));
    t.strictSame(await within('exit 3', s.runtime.waitForExit(id)), { exitCode: 3, oomKilled: false });
    t.strictSame((await s.runtime.listManaged({ 'gantry.contract.tag': tag })).map((c) => c.id), [id], 'the orphan sweep must still find it');
    t.strictSame(await within('a second wait', s.runtime.waitForExit(id)), { exitCode: 3, oomKilled: false }, 'waiting again gives the same answer');
    await s.runtime.destroy(id);
    t.strictSame(await s.runtime.listManaged({ 'gantry.contract.tag': tag }), []);
  });

  t.test('a process that exits 0 reports 0', async (t) => {
    const id = await start('exit0', { kind: 'exit', code: 0 });
    t.teardown(() => s.runtime.destroy(id));
    t.strictSame(await within('exit 0', s.runtime.waitForExit(id)), { exitCode: 0, oomKilled: false });
  });

  t.test('a container killed for memory reports oomKilled', async (t) => {
    const id = await start('oom', { kind: 'oom' });
    t.teardown(() => s.runtime.destroy(id));
    const exit = await within('the OOM kill', s.runtime.waitForExit(id));
    t.equal(exit.oomKilled, true);
    t.equal(exit.exitCode, 137, 'killed by SIGKILL');
  });

  t.test('output from the first byte on reaches the sink, stdout and stderr apart', async (t) => {
    const marker = randomUUID().slice(0, 8);
    const seen = { stdout: '', stderr: '' };
    const id = await start('print', { kind: 'print', marker }, {}, (stream, chunk) => (seen[stream] += chunk.toString('utf8')));
    t.teardown(() => s.runtime.destroy(id));
    await within('both lines', until(() => seen.stdout.includes('\n') && seen.stderr.includes('\n')));
    t.equal(seen.stdout, `out-${marker}\n`);
    t.equal(seen.stderr, `err-${marker}\n`);
  });

  t.test('a missing image is image-missing and leaves nothing behind', async (t) => {
    const tag = randomUUID();
    const spec = { ...(await s.spec(name('noimage'), { kind: 'run' }, labelled({ 'gantry.contract.tag': tag }))), image: s.missingImage };
    t.equal(await errorKind(s.runtime.start(spec)), 'image-missing');
    t.strictSame(await s.runtime.listManaged({ 'gantry.contract.tag': tag }), []);
  });

  t.test('a name in use is a conflict, creates nothing, and leaves the holder running', async (t) => {
    const tag = randomUUID();
    const taken = name('conflict');
    const first = await s.runtime.start(await s.spec(taken, { kind: 'run' }, labelled({ 'gantry.contract.tag': tag, 'gantry.contract.role': 'first' })));
    s.act(first, { kind: 'run' });
    t.teardown(() => s.runtime.destroy(first));
    const second = await s.spec(taken, { kind: 'run' }, labelled({ 'gantry.contract.tag': tag, 'gantry.contract.role': 'second' }));
    t.equal(await errorKind(s.runtime.start(second)), 'conflict');
    t.strictSame((await s.runtime.listManaged({ 'gantry.contract.tag': tag })).map((c) => c.id), [first]);
    const exit = s.runtime.waitForExit(first);
    await s.runtime.destroy(first);
    t.strictSame(await within('the holder to be killed', exit), KILLED, 'the holder was still running');
    const again = await s.runtime.start(second);
    s.act(again, { kind: 'run' });
    t.teardown(() => s.runtime.destroy(again));
    t.not(again, first, 'once removed, the name is free');
  });

  t.test('inspectImage: the labels of a present image, undefined for a missing one', async (t) => {
    const info = await s.runtime.inspectImage(s.image);
    t.ok(info, 'present');
    t.match(info?.labels, s.imageLabels);
    t.equal(await s.runtime.inspectImage(s.missingImage), undefined);
  });

  t.test('ensureNetwork creates a usable network once; its gateway is an IPv4 address', async (t) => {
    const net = `${s.networkPrefix}${run}`;
    await s.runtime.ensureNetwork(net, labelled());
    await s.runtime.ensureNetwork(net, labelled());
    await Promise.all([s.runtime.ensureNetwork(net, labelled()), s.runtime.ensureNetwork(net, labelled())]);
    t.pass('idempotent, also concurrently');
    t.match(await s.runtime.networkGateway(net), /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/);
    const id = await s.runtime.start(await s.spec(name('on-net'), { kind: 'exit', code: 5 }, labelled(), net));
    s.act(id, { kind: 'exit', code: 5 });
    t.teardown(() => s.runtime.destroy(id));
    t.strictSame(await within('the container on the network', s.runtime.waitForExit(id)), { exitCode: 5, oomKilled: false }, 'a container runs on it');
    t.equal(await errorKind(s.runtime.networkGateway(`${s.networkPrefix}${run}-missing`)), 'not-found', 'a missing network is not-found');
  });

  t.test('with the engine unreachable, calls fail as engine-unavailable', async (t) => {
    const spec = await s.spec(name('down'), { kind: 'run' }, labelled());
    t.equal(await errorKind(s.down.start(spec)), 'engine-unavailable', 'start');
    t.equal(await errorKind(s.down.listManaged(s.labels)), 'engine-unavailable', 'listManaged');
    t.equal(await errorKind(s.down.destroy(`gantry-contract-${run}-x` as ContainerId)), 'engine-unavailable', 'destroy: a removal that did not happen is not a success');
  });
}

/** The kind of ContainerRuntimeError `p` rejects with (fails the test on anything else). */
async function errorKind(p: Promise<unknown>): Promise<ContainerRuntimeErrorKind | 'resolved' | 'other'> {
  try {
    await p;
    return 'resolved';
  } catch (e) {
    return e instanceof ContainerRuntimeError ? e.kind : 'other';
  }
}

function bounded<T>(what: string, p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** Resolves once `cond` holds (polled; the caller bounds it). */
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 100_000 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
}
