/**
 * Coalesces a reload: calls made while one runs share it and trigger exactly one more run after
 * it, so a burst of change notifications costs at most two loads and none is missed.
 */
export function coalesced(load: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | undefined;
  let again = false;
  return () => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          again = false;
          await load();
        } while (again);
      } finally {
        // In the same step as the last check of `again`: a call after it starts a new run. Cleared
        // in a `.finally()` of its own, a few microtask hops later, a call in between only set
        // `again` on a run that had already ended, and its change waited for the next one.
        running = undefined;
      }
    })();
    return running;
  };
}
