import t from 'tap';
import { loadControlPlaneConfig } from '../../../../control-plane/config.js';

t.test('async settings have their documented defaults', async (t) => {
  const c = loadControlPlaneConfig({});
  t.match(c, {
    GANTRY_ASYNC_MAX_PAYLOAD_BYTES: 1_048_576,
    GANTRY_ASYNC_WORKER_CONCURRENCY: 32,
    GANTRY_ASYNC_LOCK_MS: 30_000,
    GANTRY_ASYNC_SLOT_WAIT_MS: 1_000,
    GANTRY_ASYNC_THROTTLE_MIN_DELAY_MS: 1_000,
    GANTRY_ASYNC_THROTTLE_MAX_DELAY_MS: 300_000,
  });
});

t.test('a throttle maximum below the minimum is refused, naming the variable', async (t) => {
  t.throws(() => loadControlPlaneConfig({ GANTRY_ASYNC_THROTTLE_MIN_DELAY_MS: '5000', GANTRY_ASYNC_THROTTLE_MAX_DELAY_MS: '100' }), /GANTRY_ASYNC_THROTTLE_MAX_DELAY_MS: must be at least/);
  t.throws(() => loadControlPlaneConfig({ GANTRY_ASYNC_MAX_PAYLOAD_BYTES: '10' }), /GANTRY_ASYNC_MAX_PAYLOAD_BYTES/);
});
