import t from 'tap';
import { createLogger } from '../../../../common/logger.js';
import type { ContainerId, ContainerRuntime, ManagedContainer } from '../../../../control-plane/containers/container-runtime.js';
import { ExitedContainerSweeper } from '../../../../control-plane/containers/exited-container-sweeper.js';

/** The two calls the sweeper makes, over a list of containers the test changes between passes. */
function engine() {
  const exited = new Map<ContainerId, Record<string, string>>();
  const asked: { labels: Record<string, string>; exitedOnly: boolean }[] = [];
  const destroyed: ContainerId[] = [];
  const runtime = {
    listManaged: async (labels: Readonly<Record<string, string>>, opts: { exitedOnly?: boolean } = {}): Promise<ManagedContainer[]> => {
      asked.push({ labels: { ...labels }, exitedOnly: opts.exitedOnly === true });
      return [...exited].filter(([, l]) => Object.entries(labels).every(([k, v]) => l[k] === v)).map(([id, l]) => ({ id, labels: l }));
    },
    destroy: async (id: ContainerId) => {
      destroyed.push(id);
      exited.delete(id);
    },
  } as unknown as ContainerRuntime;
  return { exited, asked, destroyed, runtime };
}

const mine = { 'gantry.managed': 'true', 'gantry.node': 'n1' };
const id = (s: string) => s as ContainerId;

t.test('an exited container of the node goes on the second pass that finds it, not the first', async (t) => {
  const e = engine();
  const sweeper = new ExitedContainerSweeper({ containers: e.runtime, logger: createLogger({ level: 'silent', name: 't' }) }, { nodeId: 'n1', intervalMs: 60_000 });
  e.exited.set(id('a'), mine);
  t.equal(await sweeper.run(), 0, 'just exited: its owner may still be reading its exit');
  e.exited.set(id('b'), mine);
  t.equal(await sweeper.run(), 1);
  t.same(e.destroyed, ['a']);
  t.equal(await sweeper.run(), 1);
  t.same(e.destroyed, ['a', 'b']);
  t.same(e.asked[0], { labels: mine, exitedOnly: true }, 'only exited containers with this node label are listed');
});

t.test('a container that was removed meanwhile (or started again) is not destroyed later', async (t) => {
  const e = engine();
  const sweeper = new ExitedContainerSweeper({ containers: e.runtime, logger: createLogger({ level: 'silent', name: 't' }) }, { nodeId: 'n1', intervalMs: 60_000 });
  e.exited.set(id('a'), mine);
  await sweeper.run();
  e.exited.delete(id('a'));
  await sweeper.run();
  e.exited.set(id('a'), mine);
  t.equal(await sweeper.run(), 0, 'seen exited again only once since');
  t.same(e.destroyed, []);
});

t.test('a failing engine fails one pass, not the sweeper', async (t) => {
  const e = engine();
  const failing = { ...e.runtime, listManaged: async () => Promise.reject(new Error('engine away')) } as unknown as ContainerRuntime;
  const sweeper = new ExitedContainerSweeper({ containers: failing, logger: createLogger({ level: 'silent', name: 't' }) }, { nodeId: 'n1', intervalMs: 60_000 });
  t.equal(await sweeper.run(), 0);
});
