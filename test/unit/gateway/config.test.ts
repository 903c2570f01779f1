import t from 'tap';
import { loadGatewayConfig } from '../../../gateway/config.js';

t.test("the gateway looks for the internal token where the control plane with the same environment writes it", async (t) => {
  t.equal(loadGatewayConfig({}).GANTRY_INTERNAL_TOKEN_FILE, '/var/lib/gantry/internal-token');
  t.equal(loadGatewayConfig({ GANTRY_DATA_DIR: '/srv/gantry' }).GANTRY_INTERNAL_TOKEN_FILE, '/srv/gantry/internal-token');
  t.equal(loadGatewayConfig({ GANTRY_DATA_DIR: '/srv/gantry', GANTRY_INTERNAL_TOKEN_FILE: '/run/secrets/t' }).GANTRY_INTERNAL_TOKEN_FILE, '/run/secrets/t', 'a configured file wins');
});
