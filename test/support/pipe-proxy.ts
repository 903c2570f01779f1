/**
 * A byte-for-byte proxy owned by one test, in front of a shared service (Postgres over TCP, the
 * Docker engine over its unix socket): stopping it makes the service unreachable for the Gantry
 * under test only (open connections break, new ones are refused) while the service keeps running
 * for everyone else; starting it again is the service coming back.
 */
import net from 'node:net';

export class PipeProxy {
  private server: net.Server | undefined;
  private readonly open = new Set<net.Socket>();

  constructor(
    /** Where it listens; a TCP port of 0 is chosen at the first start and kept after. */
    protected listenOn: { readonly path: string } | { readonly host: string; port: number },
    private readonly target: net.NetConnectOpts,
  ) {}

  async start(): Promise<void> {
    const server = net.createServer((client) => {
      const upstream = net.connect(this.target);
      this.open.add(client).add(upstream);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        this.open.delete(client);
        this.open.delete(upstream);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(this.listenOn, () => resolve()));
    if ('port' in this.listenOn) this.listenOn.port = (server.address() as net.AddressInfo).port;
    this.server = server;
  }

  /** The service "goes away": no new connections, and every open one breaks. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.open) s.destroy();
    this.open.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
