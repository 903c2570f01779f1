/** Helpers for async-invocation tests: enqueue an event, wait for an invocation's outcome. */
import type { Test } from 'tap';
import { eventually, type Stack } from './stack.js';

export type Admin = Stack['admin'];

/** `?async=true`; fails the test unless it answers 202 with an id. */
export async function invokeAsync(t: Test, admin: Admin, fn: string, event: unknown = {}): Promise<string> {
  const res = await admin('POST', `/v1/functions/${fn}/invoke?async=true`, event);
  const body = (await res.json()) as { invocationId?: string };
  t.equal(res.status, 202, `async invoke of ${fn}: ${JSON.stringify(body)}`);
  return body.invocationId as string;
}

export async function invocation(admin: Admin, id: string): Promise<Record<string, unknown> | undefined> {
  const res = await admin('GET', `/v1/invocations/${id}`);
  if (res.status === 404) return undefined;
  return (await res.json()) as Record<string, unknown>;
}

const FINAL = new Set(['succeeded', 'failed', 'dead-lettered']);

/** Polls until the invocation has an outcome; undefined when it has none within `timeoutMs`. */
export async function settled(admin: Admin, id: string, timeoutMs = 60_000): Promise<Record<string, unknown> | undefined> {
  let last: Record<string, unknown> | undefined;
  const ok = await eventually(async () => {
    last = await invocation(admin, id);
    return last !== undefined && FINAL.has(last.status as string);
  }, timeoutMs, 100);
  return ok ? last : undefined;
}
