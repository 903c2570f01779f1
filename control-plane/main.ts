/**
 * `npm run start:control-plane`: parse config once, start, and shut down cleanly on SIGTERM.
 */
import { createLogger } from '../common/logger.js';
import { installProcessHandlers } from '../common/process.js';
import { createControlPlane } from './app.js';
import { describeConfig, loadControlPlaneConfig } from './config.js';

const config = loadControlPlaneConfig(process.env);
const logger = createLogger({ level: config.GANTRY_LOG_LEVEL, name: 'gantry-control-plane' });
logger.info({ config: describeConfig(config) }, 'starting');
const controlPlane = createControlPlane(config, logger);
installProcessHandlers(logger, () => controlPlane.close());
await controlPlane.start();
