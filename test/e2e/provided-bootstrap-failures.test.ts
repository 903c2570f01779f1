// provided functions whose bootstrap cannot run or dies, through the control plane: what
// gantry-relay reports (Runtime.InvalidEntrypoint) and the bootstrap's own exit status reach the
// caller. Zips without an executable bootstrap never get this far (create answers 400).
import t from 'tap';
import { deployFunction, eventually, startStack } from '../support/stack.js';
import { makeZip } from '../support/zip.js';

const stack = await startStack(t);

/** The scheduler removes a failed environment's container in the background; wait (bounded). */
const gone = (fn: string) => eventually(async () => (await stack.containers()).every((c) => c.Labels['gantry.function'] !== fn), 10_000);

const bootstrapZip = (script: string) => makeZip([{ name: 'bootstrap', content: script, mode: 0o100755 }]);

await t.test('a bootstrap whose interpreter is missing is Runtime.InvalidEntrypoint', async (t) => {
  await deployFunction(t, stack, 'bad-interpreter', bootstrapZip('#!/no/such/interpreter\n'), { runtime: 'provided', handler: 'x' });
  const res = await stack.admin('POST', '/v1/functions/bad-interpreter/invoke', {});
  t.equal(res.headers.get('x-gantry-function-error'), 'Unhandled');
  t.match(await res.json(), {
    errorType: 'Runtime.InvalidEntrypoint',
    errorMessage: "Couldn't start the bootstrap /var/task/bootstrap: No such file or directory",
  });
  t.ok(await gone('bad-interpreter'), 'the failed environment is removed');
});

await t.test("a bootstrap that exits is Runtime.ExitError with the bootstrap's exit status", async (t) => {
  await deployFunction(t, stack, 'exits', bootstrapZip('#!/bin/sh\nexit 7\n'), { runtime: 'provided', handler: 'x' });
  const res = await stack.admin('POST', '/v1/functions/exits/invoke', {});
  t.equal(res.headers.get('x-gantry-function-error'), 'Unhandled');
  t.match(await res.json(), { errorType: 'Runtime.ExitError', errorMessage: /Error: Runtime exited with error: exit status 7$/ });
  t.ok(await gone('exits'), 'the failed environment is removed');
});
