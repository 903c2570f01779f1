/**
 * The gateway's function-facing TLS listener (GANTRY_FUNCTION_TLS_PORT): where a function's
 * unmodified `ApiGatewayManagementApi` client lands when it calls `https://{domainName}/{stage}`
 * or `https://{apiId}.execute-api.{region}.amazonaws.com/{stage}` (issue 15 §4).
 *
 * Why this shape: those URLs are https on port 443 under names only Gantry can vouch for. Inside a
 * function's container the control plane maps the names to the host's address on the function
 * network (its /etc/hosts) and the host firewall forwards that address's port 443 here (DNAT), so the
 * public listener and its port stay as they are. The certificate for each name is signed on first
 * use (SNI) by the function CA (common/function-ca.ts), which functions trust; only names that
 * identify a WebSocket API are signed. This listener serves `@connections` and nothing else, with
 * the same code, auth and answers as the public one.
 */
import https from 'node:https';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import type http from 'node:http';
import { apiIdOfExecuteApiHost } from '../../common/execute-api-host.js';
import { LeafIssuer, readFunctionCa, type FunctionCa } from '../../common/function-ca.js';
import type { Logger } from '../../common/logger.js';
import type { RouteSync } from '../routing/route-sync.js';

export interface FunctionTlsDeps {
  readonly routes: Pick<RouteSync, 'current'>;
  /** The `@connections` handler; false when the path is none of its. */
  readonly handleRequest: (req: http.IncomingMessage, res: http.ServerResponse, path: string) => boolean;
  readonly logger: Logger;
}

export interface FunctionTlsOptions {
  readonly port: number;
  readonly host: string;
  readonly caDir: string;
  /** How long to wait for the control plane to create the CA. */
  readonly caWaitMs: number;
}

/** Names signed so far; bounded (hostile SNI cannot grow it past this). */
const MAX_CACHED_NAMES = 1_000;
/** Certificates are valid for 7 days; one older than this is signed anew. */
const RENEW_AFTER_MS = 86_400_000;

export class FunctionTlsListener {
  private server: https.Server | undefined;
  private readonly contexts = new Map<string, { readonly context: tls.SecureContext; readonly madeAtMs: number }>();
  private issuer: LeafIssuer | undefined;

  constructor(
    private readonly deps: FunctionTlsDeps,
    private readonly opts: FunctionTlsOptions,
  ) {}

  async start(): Promise<number> {
    this.issuer = new LeafIssuer(await waitForCa(this.opts.caDir, this.opts.caWaitMs));
    const srv = https.createServer({ SNICallback: (name, cb) => this.sni(name, cb), maxHeaderSize: 10_240 }, (req, res) => {
      const path = (req.url ?? '/').split('?', 1)[0] as string;
      if (this.deps.handleRequest(req, res, path)) return;
      req.resume();
      const body = JSON.stringify({ message: 'Not Found' });
      res.writeHead(404, { 'content-type': 'application/json', 'content-length': String(body.length), 'x-amzn-ErrorType': 'NotFoundException' });
      res.end(body);
    });
    srv.headersTimeout = 10_000;
    srv.requestTimeout = 60_000;
    srv.keepAliveTimeout = 5_000;
    // A function that drops its TLS handshake is its own problem, never this process's.
    srv.on('tlsClientError', () => undefined);
    this.server = srv;
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(this.opts.port, this.opts.host, () => resolve());
    });
    return (srv.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    const srv = this.server;
    if (!srv) return;
    await new Promise<void>((resolve) => {
      srv.close(() => resolve());
      srv.closeAllConnections();
    });
  }

  private sni(name: string, cb: (err: Error | null, ctx?: tls.SecureContext) => void): void {
    const key = name.toLowerCase();
    if (!this.servesName(key)) return cb(new Error(`no WebSocket API is named ${key}`));
    const now = Date.now();
    const cached = this.contexts.get(key);
    if (cached && now - cached.madeAtMs < RENEW_AFTER_MS) return cb(null, cached.context);
    try {
      const issuer = this.issuer as LeafIssuer;
      const context = tls.createSecureContext({ key: issuer.keyPem, cert: issuer.issue(key, now).certPem });
      if (this.contexts.size >= MAX_CACHED_NAMES) this.contexts.delete(this.contexts.keys().next().value as string);
      this.contexts.set(key, { context, madeAtMs: now });
      cb(null, context);
    } catch (e) {
      this.deps.logger.warn({ err: e as Error, name: key }, 'function TLS certificate not issued');
      cb(e as Error);
    }
  }

  /** An API's `execute-api` name or one of a WebSocket API's own hosts. */
  private servesName(name: string): boolean {
    const table = this.deps.routes.current().table;
    const id = apiIdOfExecuteApiHost(name);
    const api = id !== undefined ? table.findApiById(id) : table.findApiByHost(name);
    return api?.protocol === 'websocket';
  }
}

async function waitForCa(dir: string, waitMs: number): Promise<FunctionCa> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const ca = await readFunctionCa(dir);
    if (ca) return ca;
    if (Date.now() > deadline) throw new Error(`no function CA in ${dir} within ${waitMs} ms: start the control plane first, or point GANTRY_FUNCTION_CA_DIR at its directory`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
