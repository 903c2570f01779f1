/** A PipeProxy on a unix socket of the test's in front of the Docker engine's socket. */
import { PipeProxy } from './pipe-proxy.js';

export class SocketProxy extends PipeProxy {
  constructor(
    readonly path: string,
    target = '/var/run/docker.sock',
  ) {
    super({ path }, { path: target });
  }
}
