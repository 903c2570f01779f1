/**
 * Holds async events of a function until it has a free concurrency slot, so a burst waits instead
 * of being throttled away (issue 7, point 3). Per function, at most `limit` events run at once
 * (null: no limit of its own; the node budget still applies in the invoker). A waiter gives up
 * after `waitMs`, so events of a slow function do not hold the worker's slots for long: the
 * caller then puts the event back on the queue. Waiters are served first come, first served.
 */

export interface GateSlot {
  release(): void;
}

interface Waiter {
  readonly resolve: (slot: GateSlot | undefined) => void;
  readonly timer: NodeJS.Timeout;
}

interface Lane {
  running: number;
  limit: number | null;
  readonly waiters: Waiter[];
}

export class FunctionGate {
  private readonly lanes = new Map<string, Lane>();
  private closed = false;

  /** Resolves with a slot, or undefined when none freed within `waitMs` (or the gate closed). */
  enter(functionId: string, limit: number | null, waitMs: number): Promise<GateSlot | undefined> {
    if (this.closed) return Promise.resolve(undefined);
    const lane = this.lanes.get(functionId) ?? { running: 0, limit, waiters: [] };
    this.lanes.set(functionId, lane);
    lane.limit = limit;
    if (lane.waiters.length === 0 && this.hasRoom(lane)) return Promise.resolve(this.take(functionId, lane));
    if (waitMs <= 0 || lane.limit === 0) {
      this.forget(functionId, lane);
      return Promise.resolve(undefined);
    }
    return new Promise((resolve) => {
      const waiter: Waiter = {
        resolve,
        timer: setTimeout(() => {
          const i = lane.waiters.indexOf(waiter);
          if (i >= 0) lane.waiters.splice(i, 1);
          this.forget(functionId, lane);
          resolve(undefined);
        }, waitMs),
      };
      lane.waiters.push(waiter);
    });
  }

  /** Events of this function currently holding a slot. */
  running(functionId: string): number {
    return this.lanes.get(functionId)?.running ?? 0;
  }

  /** Releases every waiter empty-handed (shutdown); slots already taken are released as usual. */
  close(): void {
    this.closed = true;
    for (const lane of this.lanes.values()) {
      for (const w of lane.waiters.splice(0)) {
        clearTimeout(w.timer);
        w.resolve(undefined);
      }
    }
  }

  private hasRoom(lane: Lane): boolean {
    return lane.limit === null || lane.running < lane.limit;
  }

  private take(functionId: string, lane: Lane): GateSlot {
    lane.running += 1;
    let released = false;
    return {
      release: () => {
        if (released) throw new Error('gate slot released twice');
        released = true;
        lane.running -= 1;
        this.handOver(functionId, lane);
      },
    };
  }

  private handOver(functionId: string, lane: Lane): void {
    while (lane.waiters.length > 0 && this.hasRoom(lane) && !this.closed) {
      const w = lane.waiters.shift() as Waiter;
      clearTimeout(w.timer);
      w.resolve(this.take(functionId, lane));
    }
    this.forget(functionId, lane);
  }

  private forget(functionId: string, lane: Lane): void {
    if (lane.running === 0 && lane.waiters.length === 0) this.lanes.delete(functionId);
  }
}
