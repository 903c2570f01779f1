import t from 'tap';
import type { FunctionId, FunctionVersion, TenantId, VersionId } from '../../../../control-plane/functions/function-types.js';
import { EnvironmentLog } from '../../../../control-plane/logs/environment-log.js';
import { RuntimeChannel } from '../../../../control-plane/runtime-api/runtime-channel.js';
import { Environment, InvalidTransitionError, type EnvironmentId, type EnvironmentState } from '../../../../control-plane/scheduler/environment.js';

const version: FunctionVersion = {
  tenantId: 'default' as TenantId,
  functionId: 'fn-a' as FunctionId,
  versionId: 7 as VersionId,
  name: 'a',
  runtime: 'nodejs20',
  handler: 'index.handler',
  memoryMb: 256,
  timeoutMs: 3000,
  environment: {},
  network: 'none',
  codeSha256: 'abc',
  codeSize: 1,
};

function anEnvironment(bound: boolean): Environment {
  const dirs = { root: '/data/containers/n/e1', socketDir: '/data/containers/n/e1/runtime', taskDir: '/data/containers/n/e1/task' };
  return new Environment('e1' as EnvironmentId, new RuntimeChannel('/nonexistent/runtime.sock'), new EnvironmentLog(() => undefined, 1024), dirs, 256, 'nodejs20', 'none', 1000, bound ? version : undefined);
}

/** Walks `path` from starting; every step must be allowed. */
function walk(e: Environment, path: readonly EnvironmentState[]): void {
  for (const s of path) e.transition(s);
}

const STATES: readonly EnvironmentState[] = ['starting', 'idle', 'busy', 'dead'];
const ALLOWED: Readonly<Record<EnvironmentState, readonly EnvironmentState[]>> = {
  starting: ['idle', 'busy', 'dead'],
  idle: ['busy', 'dead'],
  busy: ['idle', 'dead'],
  dead: [],
};
const REACH: Readonly<Record<EnvironmentState, readonly EnvironmentState[]>> = { starting: [], idle: ['idle'], busy: ['busy'], dead: ['dead'] };

for (const from of STATES) {
  for (const to of STATES) {
    const ok = ALLOWED[from].includes(to);
    t.test(`${from} -> ${to} is ${ok ? 'allowed' : 'an InvalidTransitionError'}`, async (t) => {
      const e = anEnvironment(true);
      walk(e, REACH[from]);
      if (ok) {
        e.transition(to);
        t.equal(e.state, to);
        t.equal(e.isDead, to === 'dead');
      } else {
        t.throws(() => e.transition(to), InvalidTransitionError);
        t.equal(e.state, from, 'the state does not change');
      }
    });
  }
}

t.test('a stem cell is unbound until bind(), then bound to that version for life', async (t) => {
  const e = anEnvironment(false);
  t.equal(e.isStemCell, true);
  t.equal(e.version, undefined);
  t.equal(e.view().versionId, undefined);
  t.strictSame(e.stemKey(), { runtime: 'nodejs20', memoryMb: 256, network: 'none' });
  e.bind(version);
  t.equal(e.isStemCell, false);
  t.equal(e.versionId, 7);
  t.equal(e.view().versionId, 7);
  t.throws(() => e.bind({ ...version, versionId: 8 as VersionId }), InvalidTransitionError, 'bind happens once');
  t.equal(e.versionId, 7);
});

t.test('a function environment cannot be bound again', async (t) => {
  t.throws(() => anEnvironment(true).bind(version), InvalidTransitionError);
});

t.test('view() reflects the flags the placement decisions read', async (t) => {
  const e = anEnvironment(true);
  walk(e, ['idle']);
  e.provisioned = true;
  e.retired = true;
  e.lastUsedMs = 5000;
  t.strictSame(e.view(), { id: 'e1', versionId: 7, state: 'idle', lastUsedMs: 5000, memoryMb: 256, provisioned: true, retired: true });
});
