/**
 * A unix-socket proxy in front of the Docker engine, owned by one test: stopping it makes the
 * engine unreachable for the Gantry under test only (the shared engine keeps running for everyone
 * else); starting it again is the engine coming back.
 */
import net from 'node:net';

export class SocketProxy {
  private server: net.Server | undefined;
  private readonly open = new Set<net.Socket>();

  constructor(
    readonly path: string,
    private readonly target = '/var/run/docker.sock',
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
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(this.path, () => resolve()));
    this.server = server;
  }

  /** The engine "goes away": no new connections, and every open one (waits, attaches) breaks. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.open) s.destroy();
    this.open.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
