/**
 * Process-level policy for every Gantry entry point: SIGTERM/SIGINT close gracefully once (a
 * second signal exits at once); an unhandled rejection or uncaught exception is logged as fatal
 * and exits non-zero ("report, then exit").
 */
import type { Logger } from './logger.js';

export function installProcessHandlers(logger: Logger, close: () => Promise<void>): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    close().then(
      () => process.exit(0),
      (e: unknown) => {
        logger.error({ err: e as Error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('unhandledRejection', (reason) => {
    logger.fatal({ err: reason as Error }, 'unhandled rejection');
    process.exit(1);
  });
  process.on('uncaughtException', (err) => {
    logger.fatal({ err }, 'uncaught exception');
    process.exit(1);
  });
}
