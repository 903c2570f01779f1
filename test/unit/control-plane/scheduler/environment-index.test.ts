import t from 'tap';
import type { FunctionId, FunctionVersion, TenantId, VersionId } from '../../../../control-plane/functions/function-types.js';
import { EnvironmentLog } from '../../../../control-plane/logs/environment-log.js';
import { RuntimeChannel } from '../../../../control-plane/runtime-api/runtime-channel.js';
import { Environment, type EnvironmentId } from '../../../../control-plane/scheduler/environment.js';
import { EnvironmentIndex } from '../../../../control-plane/scheduler/environment-index.js';

const versionOf = (versionId: number): FunctionVersion => ({
  tenantId: 'default' as TenantId,
  functionId: `fn-${versionId}` as FunctionId,
  versionId: versionId as VersionId,
  name: `f${versionId}`,
  runtime: 'nodejs20',
  handler: 'index.handler',
  memoryMb: 128,
  timeoutMs: 3000,
  environment: {},
  network: 'default',
  codeSha256: 'abc',
  codeSize: 1,
});

function anEnvironment(id: string, opts: { version?: FunctionVersion; memoryMb?: number; runtime?: string } = {}): Environment {
  const dirs = { root: `/data/${id}`, socketDir: `/data/${id}/runtime`, taskDir: `/data/${id}/task` };
  return new Environment(id as EnvironmentId, new RuntimeChannel('/nonexistent/runtime.sock'), new EnvironmentLog(() => undefined, 1024), dirs, opts.memoryMb ?? 128, opts.runtime ?? 'nodejs20', 'default', 0, opts.version);
}

const cell128 = { runtime: 'nodejs20', memoryMb: 128, network: 'default' } as const;
const ids = (envs: Iterable<Environment>) => [...envs].map((e) => e.id).sort();

t.test('function environments are found by their version only', async (t) => {
  const index = new EnvironmentIndex();
  index.add(anEnvironment('a', { version: versionOf(1) }));
  index.add(anEnvironment('b', { version: versionOf(1) }));
  index.add(anEnvironment('c', { version: versionOf(2) }));
  t.same(ids(index.ofVersion(1)), ['a', 'b']);
  t.same(ids(index.ofVersion(2)), ['c']);
  t.same(ids(index.ofVersion(3)), []);
  t.same(ids(index.cellsOf(cell128)), [], 'a function environment is no stem cell');
  t.equal(index.size, 3);
});

t.test('stem cells are found by shape, and move to their version when bound', async (t) => {
  const index = new EnvironmentIndex();
  const cell = anEnvironment('cell');
  index.add(cell);
  index.add(anEnvironment('big', { memoryMb: 512 }));
  index.add(anEnvironment('py', { runtime: 'python3.11' }));
  t.same(ids(index.cellsOf(cell128)), ['cell']);
  t.same(ids(index.cellsOf({ ...cell128, memoryMb: 512 })), ['big']);
  t.same(ids(index.cellsOf({ ...cell128, network: 'none' })), [], 'the network is part of the shape');
  cell.bind(versionOf(9));
  index.bound(cell);
  t.same(ids(index.cellsOf(cell128)), []);
  t.same(ids(index.ofVersion(9)), ['cell']);
  t.equal(index.get('cell' as EnvironmentId), cell);
});

t.test('a deleted environment leaves every index; deleting twice is harmless', async (t) => {
  const index = new EnvironmentIndex();
  const fn = anEnvironment('fn', { version: versionOf(1) });
  const cell = anEnvironment('cell');
  const bound = anEnvironment('bound');
  for (const e of [fn, cell, bound]) index.add(e);
  bound.bind(versionOf(1));
  index.bound(bound);
  for (const e of [fn, cell, bound]) index.delete(e);
  index.delete(fn);
  t.equal(index.size, 0);
  t.same(ids(index.ofVersion(1)), []);
  t.same(ids(index.cellsOf(cell128)), []);
  t.same(ids(index.values()), []);
});
