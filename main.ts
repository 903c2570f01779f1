/**
 * `npm start`: the control plane and a gateway in one process, for a single machine. The gateway
 * calls the invoker in-process, so a routed request makes one hop (process → container socket).
 */
import { createLogger } from './common/logger.js';
import { installProcessHandlers } from './common/process.js';
import { createControlPlane } from './control-plane/app.js';
import { describeConfig, loadControlPlaneConfig } from './control-plane/config.js';
import { createGateway } from './gateway/app.js';
import { loadGatewayConfig } from './gateway/config.js';
import { InProcessUpstream } from './single-process/in-process-upstream.js';

const cpConfig = loadControlPlaneConfig(process.env);
const gwConfig = loadGatewayConfig(process.env);
const logger = createLogger({ level: cpConfig.GANTRY_LOG_LEVEL, name: 'gantry' });
logger.info({ config: describeConfig(cpConfig) }, 'starting');
const controlPlane = createControlPlane(cpConfig, logger.child({ role: 'control-plane' }));
const gateway = createGateway(gwConfig, logger.child({ role: 'gateway' }), { upstream: new InProcessUpstream(controlPlane.invoker), internalToken: controlPlane.internalToken });
installProcessHandlers(logger, async () => {
  // The gateway stops taking requests first; the control plane then drains what is in flight.
  await gateway.close();
  await controlPlane.close();
});
await controlPlane.start();
await gateway.start();
