/** `npm run start:gateway`: parse config once, start, and shut down cleanly on SIGTERM. */
import { createLogger } from '../common/logger.js';
import { installProcessHandlers } from '../common/process.js';
import { createGateway } from './app.js';
import { loadGatewayConfig } from './config.js';

const config = loadGatewayConfig(process.env);
const logger = createLogger({ level: config.GANTRY_LOG_LEVEL, name: 'gantry-gateway' });
const gateway = createGateway(config, logger);
installProcessHandlers(logger, () => gateway.close());
await gateway.start();
