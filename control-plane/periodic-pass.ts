/**
 * A maintenance pass (code GC, the exited-container sweep, ledger retention) run every
 * `intervalMs` and on demand, never two at once. A failed pass resolves with `onError`'s
 * answer (which logs it): the next one tries again.
 */
export abstract class PeriodicPass<T> {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<T> | undefined;

  protected constructor(private readonly schedule: { readonly intervalMs: number; readonly onError: (e: unknown) => T }) {}

  protected abstract pass(): Promise<T>;

  start(): void {
    this.timer ??= setInterval(() => void this.run(), this.schedule.intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and waits for a pass in progress. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One pass, or the one already running. */
  run(): Promise<T> {
    this.running ??= this.pass()
      .catch(this.schedule.onError)
      .finally(() => (this.running = undefined));
    return this.running;
  }
}
