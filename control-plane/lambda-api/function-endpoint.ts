/**
 * The Lambda API where functions reach it: a listener of its own on the host's address on the
 * function network (the firewall refuses every other host port but the gateway's), serving the
 * Lambda API and nothing else, and `AWS_ENDPOINT_URL_LAMBDA` pointing at it in every function's
 * environment, so `new LambdaClient({})` inside a function calls Gantry. A port already taken is
 * a warning: the node serves, and functions get no endpoint.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { answerClientErrors, guarded, type ErrorBody } from '../../common/http-boundary.js';
import type { Logger } from '../../common/logger.js';
import { LambdaApiError, writeLambdaError } from './lambda-errors.js';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

export class FunctionLambdaEndpoint {
  private server: http.Server | undefined;
  private url: string | undefined;

  constructor(
    private readonly handler: { readonly isLambdaPath: (url: string | undefined) => boolean; readonly serve: Handler },
    private readonly errorBody: ErrorBody,
    private readonly logger: Logger,
    private readonly port: number,
  ) {}

  /** Binds on `hostAddress`; resolves with the port, or undefined when it could not. */
  async listen(hostAddress: string): Promise<number | undefined> {
    const srv = http.createServer(
      guarded(
        (req, res) => {
          if (this.handler.isLambdaPath(req.url)) this.handler.serve(req, res);
          else writeLambdaError(res, new LambdaApiError('UnknownOperationException', 'Only the Lambda API is served here.'));
        },
        this.logger,
        this.errorBody,
      ),
    );
    answerClientErrors(srv, this.errorBody);
    srv.keepAliveTimeout = 65_000;
    srv.headersTimeout = 66_000;
    try {
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(this.port, hostAddress, () => resolve());
      });
    } catch (e) {
      this.logger.warn({ err: e as Error, address: hostAddress, port: this.port }, 'function-facing Lambda API not listening: functions get no AWS_ENDPOINT_URL_LAMBDA');
      return undefined;
    }
    this.server = srv;
    const port = (srv.address() as AddressInfo).port;
    this.url = `http://${hostAddress.includes(':') ? `[${hostAddress}]` : hostAddress}:${port}`;
    return port;
  }

  /** What every function's environment gets. */
  variables(): Readonly<Record<string, string>> {
    return this.url === undefined ? {} : { AWS_ENDPOINT_URL_LAMBDA: this.url };
  }

  async close(): Promise<void> {
    const srv = this.server;
    if (srv === undefined) return;
    await new Promise<void>((resolve) => {
      srv.close(() => resolve());
      srv.closeAllConnections();
    });
  }
}
