import t from 'tap';
import { EnvironmentLog, type LogLine } from '../../../../control-plane/logs/environment-log.js';

function aLog() {
  const lines: LogLine[] = [];
  const log = new EnvironmentLog((_tenant, _fn, line) => lines.push(line), 1024 * 1024);
  log.bindFunction('default', 'f');
  return { log, lines };
}

t.test('lines go to the invocation in flight; init output goes to the first one', async (t) => {
  const { log, lines } = aLog();
  log.write('stdout', Buffer.from('loading\n'));
  log.begin('inv-1', '$LATEST');
  log.write('stderr', Buffer.from('one\npart'));
  log.write('stderr', Buffer.from('ial\n'));
  log.end('REPORT RequestId: inv-1');
  log.begin('inv-2', '$LATEST');
  log.write('stdout', Buffer.from('two\n'));
  const mine = (id: string) => lines.filter((l) => l.invocationId === id).map((l) => `${l.stream} ${l.message}`);
  t.same(mine('inv-1'), ['stdout START RequestId: inv-1 Version: $LATEST', 'stdout loading', 'stderr one', 'stderr partial', 'stdout END RequestId: inv-1', 'stdout REPORT RequestId: inv-1']);
  t.same(mine('inv-2'), ['stdout START RequestId: inv-2 Version: $LATEST', 'stdout two']);
  t.match(log.tailText(), /two\n$/);
});

t.test("settle waits for the invocation's own output to arrive, then for it to go quiet", async (t) => {
  const { log } = aLog();
  log.write('stdout', Buffer.from('from an earlier call\n'));
  log.begin('inv-1', '$LATEST');
  const started = Date.now();
  setTimeout(() => log.write('stdout', Buffer.from('late line\n')), 40);
  await log.settle(5, 1_000);
  const waited = Date.now() - started;
  t.ok(waited >= 40, `waited for the late line (${waited} ms)`);
  t.ok(waited < 500, `and not much longer (${waited} ms)`);
  t.match(log.tailText(), /late line\n$/);
});

t.test('settle gives up after its maximum when the invocation prints nothing', async (t) => {
  const { log } = aLog();
  log.begin('inv-1', '$LATEST');
  const started = Date.now();
  await log.settle(5, 60);
  t.ok(Date.now() - started >= 60);
});
