import t from 'tap';
import { coalesced } from '../../../common/coalesced.js';

t.test('calls during a run share it and cause exactly one more run', async (t) => {
  let runs = 0;
  let release: (() => void) | undefined;
  const reload = coalesced(async () => {
    runs += 1;
    await new Promise<void>((r) => (release = r));
  });
  const first = reload();
  const during = [reload(), reload(), reload()];
  t.equal(runs, 1);
  release?.();
  await new Promise((r) => setImmediate(r));
  t.equal(runs, 2, 'one more run for all the calls made during the first');
  release?.();
  await Promise.all([first, ...during]);
  t.equal(runs, 2);
  const later = reload();
  t.equal(runs, 3, 'a call after the runs ended starts a new one');
  release?.();
  await later;
});
