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

t.test('a call made just as the last load ends, before its promise settles, still gets a load of its own', async (t) => {
  // The window between the loop's last check and the promise settling is a few microtask hops;
  // a change notified in it was dropped until the next periodic check.
  for (let hops = 0; hops < 8; hops++) {
    let loads = 0;
    let lateCalledAt: number | undefined;
    let servedAfterLate = false;
    let late: Promise<void> | undefined;
    const reload = coalesced(async () => {
      loads += 1;
      if (lateCalledAt !== undefined) servedAfterLate = true;
      if (loads === 1) {
        let p: Promise<unknown> = Promise.resolve();
        for (let i = 0; i < hops; i++) p = p.then(() => undefined);
        void p.then(() => {
          lateCalledAt = loads;
          late = reload();
        });
      }
    });
    await reload();
    for (let i = 0; i < 20 && late === undefined; i++) await new Promise((r) => setImmediate(r));
    await late;
    t.ok(servedAfterLate, `a load began after the late call (${hops} hops)`);
  }
});
