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
      do {
        again = false;
        await load();
      } while (again);
    })().finally(() => (running = undefined));
    return running;
  };
}
