/** The container-runtime contract against FakeContainerRuntime (the Docker run is an integration test). */
import t from 'tap';
import type { ContainerSpec } from '../../../../control-plane/containers/container-runtime.js';
import { containerRuntimeContract, type ContractBehaviour } from '../../../contract/container-runtime.contract.js';
import { FakeContainerRuntime } from '../../../support/fake-container-runtime.js';

const IMAGE = 'gantry/provided:latest';
const MISSING = 'gantry/not-there:contract';

function fake(up: boolean): FakeContainerRuntime {
  const f = new FakeContainerRuntime();
  // The contract's containers do not speak the Runtime API.
  f.behaviour = { kind: 'silent' };
  f.images.set(IMAGE, { labels: { 'gantry.runtime': 'provided' } });
  f.missingImages.add(MISSING);
  f.engineUp = up;
  return f;
}

const runtime = fake(true);

containerRuntimeContract(t, {
  runtime,
  down: fake(false),
  image: IMAGE,
  imageLabels: { 'gantry.runtime': 'provided' },
  missingImage: MISSING,
  labels: { 'gantry.contract': 'fake' },
  networkPrefix: 'gantry-contract-',
  waitMs: 2000,
  spec: async (name, _behaviour, labels, network): Promise<ContainerSpec> => ({
    name,
    image: IMAGE,
    labels,
    // A handler makes it a function container to the fake (without one it would be a stem cell).
    env: { _HANDLER: 'contract' },
    limits: { memoryMb: 64, cpuShares: 128, pids: 64, tmpfsMb: 8 },
    user: '993:993',
    network: network === undefined ? { mode: 'none' } : { mode: 'network', name: network },
    mounts: [],
  }),
  act: (id, b: ContractBehaviour) => {
    switch (b.kind) {
      case 'run':
        return;
      case 'exit':
        return runtime.exit(id, { exitCode: b.code, oomKilled: false });
      case 'oom':
        return runtime.exit(id, { exitCode: 137, oomKilled: true });
      case 'print':
        runtime.print(id, 'stdout', `out-${b.marker}\n`);
        runtime.print(id, 'stderr', `err-${b.marker}\n`);
        return;
    }
  },
});
