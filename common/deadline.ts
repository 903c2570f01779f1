/**
 * Deadlines for awaits on I/O: every Docker, Postgres or network wait is bounded (style.md 3.5.8).
 */

export class DeadlineExceededError extends Error {
  override readonly name = 'DeadlineExceededError';
}

/** Resolves like `promise`, or rejects with DeadlineExceededError after `ms`. Clears its timer. */
export async function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineExceededError(`${what} took longer than ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
