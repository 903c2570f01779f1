/**
 * A function's asynchronous-invocation settings (api.md, `PUT /v1/functions/{name}/async-config`;
 * Lambda's event-invoke config): how many times a failed event is retried and after what delays,
 * how old an event may get before it is no longer run, and where outcomes go. Pure: the schema,
 * the defaults, and the wire shape.
 */
import { z } from 'zod';
import { QUALIFIED_FUNCTION_NAME } from '../functions/lambda-contract.js';

export type Destination = { readonly function: string } | { readonly deadLetter: true };

export interface AsyncConfig {
  readonly maximumRetryAttempts: number;
  readonly maximumEventAgeSeconds: number;
  /** Delay before retry 1, retry 2; a missing entry repeats the last one (0 when empty). */
  readonly retryDelaysMs: readonly number[];
  readonly onSuccess: { readonly function: string } | null;
  readonly onFailure: Destination | null;
}

/** api.md's defaults, which are Lambda's: 2 retries after 1 and 2 minutes, 6 hours, dead letter. */
export const DEFAULT_ASYNC_CONFIG: AsyncConfig = Object.freeze({
  maximumRetryAttempts: 2,
  maximumEventAgeSeconds: 21_600,
  retryDelaysMs: Object.freeze([60_000, 120_000]),
  onSuccess: null,
  onFailure: Object.freeze({ deadLetter: true as const }),
});

const functionDestination = z
  .object({ function: z.string().regex(QUALIFIED_FUNCTION_NAME, 'must name a function (1-64 characters of A-Z, a-z, 0-9, _ and -), optionally with :version or :alias') })
  .strict();
const deadLetterDestination = z.object({ deadLetter: z.literal(true) }).strict();

/** PUT body: omitted fields take their default (a PUT replaces the whole config, as in Lambda). */
export const asyncConfigSchema = z
  .object({
    maximumRetryAttempts: z.number().int().min(0).max(2).default(DEFAULT_ASYNC_CONFIG.maximumRetryAttempts),
    maximumEventAgeSeconds: z.number().int().min(60).max(21_600).default(DEFAULT_ASYNC_CONFIG.maximumEventAgeSeconds),
    retryDelaysMs: z.array(z.number().int().min(0).max(900_000)).max(2).default([...DEFAULT_ASYNC_CONFIG.retryDelaysMs]),
    onSuccess: functionDestination.nullable().default(null),
    onFailure: z
      .union([functionDestination, deadLetterDestination], { errorMap: () => ({ message: 'must be {"function": "<name>"}, {"deadLetter": true} or null' }) })
      .nullable()
      .default({ deadLetter: true }),
  })
  .strict();

/** The functions a config sends events to (they must exist, and not be the function itself). */
export function destinationFunctions(c: AsyncConfig): { field: 'onSuccess' | 'onFailure'; name: string }[] {
  const out: { field: 'onSuccess' | 'onFailure'; name: string }[] = [];
  if (c.onSuccess !== null) out.push({ field: 'onSuccess', name: c.onSuccess.function });
  if (c.onFailure !== null && 'function' in c.onFailure) out.push({ field: 'onFailure', name: c.onFailure.function });
  return out;
}

export function toWire(c: AsyncConfig): Record<string, unknown> {
  return {
    maximumRetryAttempts: c.maximumRetryAttempts,
    maximumEventAgeSeconds: c.maximumEventAgeSeconds,
    retryDelaysMs: [...c.retryDelaysMs],
    onSuccess: c.onSuccess,
    onFailure: c.onFailure,
  };
}
