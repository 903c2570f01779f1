/**
 * The container-runtime contract against DockerContainerRuntime on the real engine. Containers
 * run gantry/provided, whose relay starts /var/task/bootstrap: each behaviour is a small bash
 * bootstrap in a directory of this test's own, mounted read-only. Everything this file creates
 * carries a label of its own (containers) or a name prefix of its own (networks), and is removed
 * at the end whatever happened.
 */
import { randomUUID } from 'node:crypto';
import { chmod, mkdir, mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import t from 'tap';
import type { ContainerId, ContainerSpec } from '../../control-plane/containers/container-runtime.js';
import { DockerContainerRuntime } from '../../control-plane/containers/docker/docker-container-runtime.js';
import { containerRuntimeContract, type ContractBehaviour } from '../contract/container-runtime.contract.js';
import { requireServices } from '../support/services.js';

const IMAGE = 'gantry/provided:latest';
const RUN = randomUUID().slice(0, 8);
const LABELS = { 'gantry.contract': `docker-${RUN}` };
const NETWORK_PREFIX = `gantry-contract-${RUN}-`;
/** Small, so the OOM case is quick; bash itself needs a few MB. */
const MEMORY_MB = 32;

const BOOTSTRAPS: Record<ContractBehaviour['kind'], string> = {
  run: 'exec sleep 600',
  exit: 'exit "$CONTRACT_EXIT_CODE"',
  // Doubles a string until the cgroup's memory limit kills the shell.
  oom: 'x=0123456789abcdef; for i in $(seq 1 64); do x="$x$x"; done; echo "survived $MEMORY_MB" >&2; exit 9',
  print: 'echo "out-$CONTRACT_MARKER"; echo "err-$CONTRACT_MARKER" >&2; exec sleep 600',
};

await requireServices(t);
const docker = new Docker();
const runtime = new DockerContainerRuntime({ dockerHost: undefined, callTimeoutMs: 30_000 });
const down = new DockerContainerRuntime({ dockerHost: `unix://${path.join(tmpdir(), `gantry-contract-${RUN}-no-engine.sock`)}`, callTimeoutMs: 2_000 });
const taskRoot = await mkdtemp(path.join(tmpdir(), 'gantry-contract-'));
// The container's user (993, the image's) must read the bootstraps.
await chmod(taskRoot, 0o755);
const taskDirs = new Map<ContractBehaviour['kind'], string>();
for (const [kind, script] of Object.entries(BOOTSTRAPS) as [ContractBehaviour['kind'], string][]) {
  const dir = path.join(taskRoot, kind);
  await mkdir(dir, { mode: 0o755 });
  await writeFile(path.join(dir, 'bootstrap'), `#!/bin/bash\n${script}\n`, { mode: 0o755 });
  await chmod(dir, 0o755);
  taskDirs.set(kind, dir);
}

t.teardown(async () => {
  const left = await docker.listContainers({ all: true, filters: { label: [`gantry.contract=${LABELS['gantry.contract']}`] } });
  await Promise.all(left.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
  const nets = await docker.listNetworks({ filters: { name: [NETWORK_PREFIX] } });
  await Promise.all(nets.filter((n) => n.Name.startsWith(NETWORK_PREFIX)).map((n) => docker.getNetwork(n.Id).remove().catch(() => undefined)));
  await rm(taskRoot, { recursive: true, force: true });
});

containerRuntimeContract(t, {
  runtime,
  down,
  image: IMAGE,
  imageLabels: { 'gantry.runtime': 'provided' },
  missingImage: `gantry/not-there-${RUN}:contract`,
  labels: LABELS,
  networkPrefix: NETWORK_PREFIX,
  // Starts and kills on a shared two-core machine can take seconds.
  waitMs: 60_000,
  spec: async (name, b, labels, network): Promise<ContainerSpec> => ({
    name,
    image: IMAGE,
    labels,
    env: {
      CONTRACT_EXIT_CODE: b.kind === 'exit' ? String(b.code) : '0',
      CONTRACT_MARKER: b.kind === 'print' ? b.marker : '',
      MEMORY_MB: String(MEMORY_MB),
    },
    limits: { memoryMb: MEMORY_MB, cpuShares: 128, pids: 64, tmpfsMb: 8 },
    user: '993:993',
    network: network === undefined ? { mode: 'none' } : { mode: 'network', name: network },
    mounts: [{ hostPath: taskDirs.get(b.kind) as string, containerPath: '/var/task', readOnly: true }],
  }),
  act: (_id: ContainerId) => undefined,
});
