/**
 * The root pino logger. One per process, created in main and passed down; components take
 * `logger.child({ component })`. Secrets are redacted by path so that a careless `log.info({ req })`
 * can never print a token.
 */
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

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

/** `destination` defaults to stdout; tests pass a stream to read the lines back. */
export function createLogger(opts: { level: string; name: string; destination?: DestinationStream }): Logger {
  const options: LoggerOptions = {
    name: opts.name,
    level: opts.level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return opts.destination ? pino(options, opts.destination) : pino(options);
}
