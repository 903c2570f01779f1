/** A clock the test moves by hand, for code that takes an injectable `nowMs: () => number`. */
export class ManualClock {
  constructor(private ms = 0) {}

  /** Pass as `nowMs`; bound, so it can be handed around. */
  readonly now = (): number => this.ms;

  set(ms: number): void {
    this.ms = ms;
  }

  advance(ms: number): void {
    this.ms += ms;
  }
}
