/**
 * Removes this node's exited containers (label gantry.node) that nothing removed: a destroy that
 * failed while the engine was busy, or containers left by a crash of a process with this node id.
 * A container is removed on the second pass that finds it exited, so one that has just stopped
 * stays for its owner to read its exit (OOM or not) and destroy it as usual.
 */
import type { Logger } from '../../common/logger.js';
import type { ContainerId, ContainerRuntime } from './container-runtime.js';
import { PeriodicPass } from '../periodic-pass.js';

export interface ExitedContainerSweeperOptions {
  readonly nodeId: string;
  readonly intervalMs: number;
}

export class ExitedContainerSweeper extends PeriodicPass<number> {
  private seenExited = new Set<ContainerId>();

  constructor(
    private readonly deps: { containers: ContainerRuntime; logger: Logger },
    private readonly opts: ExitedContainerSweeperOptions,
  ) {
    super({
      intervalMs: opts.intervalMs,
      onError: (e) => {
        deps.logger.warn({ err: e as Error }, 'exited container sweep failed; the next one tries again');
        return 0;
      },
    });
  }

  protected async pass(): Promise<number> {
    const exited = await this.deps.containers.listManaged({ 'gantry.managed': 'true', 'gantry.node': this.opts.nodeId }, { exitedOnly: true });
    const now = new Set(exited.map((c) => c.id));
    const due = [...now].filter((id) => this.seenExited.has(id));
    this.seenExited = new Set([...now].filter((id) => !this.seenExited.has(id)));
    await Promise.all(due.map((id) => this.deps.containers.destroy(id)));
    if (due.length > 0) this.deps.logger.info({ count: due.length }, 'exited containers removed');
    return due.length;
  }
}
