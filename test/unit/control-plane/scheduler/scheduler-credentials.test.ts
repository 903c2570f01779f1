// Expiring variables (function credentials, issue 15 §4): issued when an environment's variables
// are fixed, and an environment whose credentials could expire during a call takes no more calls.
import t from 'tap';
import type { FunctionVersion } from '../../../../control-plane/functions/function-types.js';
import { echo, fn, harness, leaseOf, waitFor } from '../../../support/scheduler-harness.js';

function issuer() {
  const issued: { name: string; atMs: number }[] = [];
  return {
    issued,
    expiringEnvironment: (v: FunctionVersion, issuedAtMs: number) => {
      issued.push({ name: v.name, atMs: issuedAtMs });
      return { variables: { AWS_ACCESS_KEY_ID: `ASIA${issued.length}`, AWS_SESSION_TOKEN: `token-${issued.length}` }, reuseUntilMs: issuedAtMs + 5_000 };
    },
  };
}

t.test('a new container gets the credentials issued at its start, over the function variables of those names', async (t) => {
  const i = issuer();
  const h = await harness(t, { expiringEnvironment: i.expiringEnvironment });
  const v = fn('a', 1, { environment: { AWS_SESSION_TOKEN: 'mine', GREETING: 'hi' } });
  const lease = await leaseOf(h.scheduler, v);
  const env = h.containers.started[0]?.spec.env;
  t.equal(env?.AWS_ACCESS_KEY_ID, 'ASIA1');
  t.equal(env?.AWS_SESSION_TOKEN, 'token-1', "the platform's credentials win over the function's own variable");
  t.equal(env?.GREETING, 'hi');
  t.strictSame(i.issued, [{ name: 'a', atMs: h.clock.now() }]);
  lease.release('reuse');
  await h.closeClean(t);
});

t.test('reused until reuseUntilMs, then replaced: at acquire, at release and by maintenance', async (t) => {
  const i = issuer();
  const h = await harness(t, { expiringEnvironment: i.expiringEnvironment });
  const v = fn('a', 1);
  const first = await leaseOf(h.scheduler, v);
  t.equal(await echo(first, 'x'), 'x');
  first.release('reuse');
  h.clock.advance(4_000);
  const warm = await leaseOf(h.scheduler, v);
  t.equal(warm.environmentId, first.environmentId, 'still reused before reuseUntilMs');
  h.clock.advance(1_000);
  warm.release('reuse');
  await waitFor('the outlived environment to be destroyed at release', () => h.containers.destroyed.length === 1);
  const fresh = await leaseOf(h.scheduler, v);
  t.not(fresh.environmentId, first.environmentId);
  t.equal(fresh.coldStart, 'container');
  t.equal(h.containers.started[1]?.spec.env.AWS_ACCESS_KEY_ID, 'ASIA2', 'the new environment has new credentials');
  fresh.release('reuse');
  h.clock.advance(5_000);
  await waitFor('maintenance to replace the idle outlived environment', () => h.containers.destroyed.length === 2);
  t.strictSame(h.scheduler.stats().environments.idle, 0);
  await h.closeClean(t);
});

t.test('without expiring variables nothing changes', async (t) => {
  const h = await harness(t);
  const v = fn('a', 1);
  (await leaseOf(h.scheduler, v)).release('reuse');
  h.clock.advance(1_000_000_000);
  const again = await leaseOf(h.scheduler, v);
  t.equal(again.coldStart, 'none');
  t.notOk(h.containers.started[0]?.spec.env.AWS_ACCESS_KEY_ID);
  again.release('reuse');
  await h.closeClean(t);
});
