/**
 * The root pino logger. One per process, created in main and passed down; components take
 * `logger.child({ component })`. Secrets are redacted by path so that a careless `log.info({ req })`
 * can never print a token.
 */
import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

const REDACT_PATHS = [
  'authorization',
  'headers.authorization',
  'req.headers.authorization',
  '*.authorization',
  'adminToken',
  'internalToken',
  'token',
  'environment',
  '*.environment',
];

export function createLogger(opts: { level: string; name: string }): Logger {
  return pino({
    name: opts.name,
    level: opts.level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}
