/**
 * Config parsing shared by both processes: zod schemas that coerce strings from the environment,
 * and one error listing every problem at once. Each process has its own config.ts built from
 * these pieces; process.env is read only in main modules.
 */
import { z } from 'zod';

export type Env = Readonly<Record<string, string | undefined>>;

export const intFrom = (def: number, min: number, max: number) =>
  z.coerce.number().int().min(min).max(max).default(def);

export const urlString = (def: string) => z.string().url().default(def);

export const absolutePath = z.string().refine((p) => p.startsWith('/'), 'must be an absolute path');

/** Settings both processes need: where Postgres and Redis are, and how to log. */
export const sharedShape = {
  DATABASE_URL: urlString('postgres://postgres@127.0.0.1:5432/gantry'),
  REDIS_URL: urlString('redis://127.0.0.1:6379'),
  // Isolates one installation's (or one test's) keys and channels in a shared Redis.
  GANTRY_REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9:_-]*$/).default('gantry:'),
  GANTRY_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // Optional; when unset the token is the one in GANTRY_INTERNAL_TOKEN_FILE, which the control
  // plane creates at first start (each process has its own default for the file).
  GANTRY_INTERNAL_TOKEN: z.string().min(32).optional(),
  GANTRY_INTERNAL_TOKEN_FILE: absolutePath.optional(),
  // Bounded so a stuck query cannot hold a request forever (style.md: every await has a deadline).
  GANTRY_DB_STATEMENT_TIMEOUT_MS: intFrom(10_000, 100, 600_000),
  GANTRY_REDIS_COMMAND_TIMEOUT_MS: intFrom(2_000, 50, 60_000),
  // How long SIGTERM waits for in-flight invocations before stopping anyway.
  GANTRY_SHUTDOWN_GRACE_MS: intFrom(30_000, 0, 900_000),
};

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Parses and freezes, or throws one ConfigError naming every bad variable. */
export function parseConfig<S extends z.ZodTypeAny>(schema: S, env: Env): Readonly<z.output<S>> {
  const result = schema.safeParse(emptyToUndefined(env));
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join('.') || '(config)'}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  return Object.freeze(result.data) as Readonly<z.output<S>>;
}

/** An empty variable means "use the default", as compose files often pass `VAR=`. */
function emptyToUndefined(env: Env): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(env)) out[k] = v === '' ? undefined : v;
  return out;
}
