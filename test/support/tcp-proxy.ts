/** A PipeProxy on 127.0.0.1 in front of a TCP service (Postgres), on the same port after a restart. */
import { PipeProxy } from './pipe-proxy.js';

export class TcpProxy extends PipeProxy {
  constructor(targetHost: string, targetPort: number) {
    super({ host: '127.0.0.1', port: 0 }, { host: targetHost, port: targetPort });
  }

  get port(): number {
    return 'port' in this.listenOn ? this.listenOn.port : 0;
  }
}
