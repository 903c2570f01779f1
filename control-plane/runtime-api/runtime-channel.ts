/**
 * One environment's Runtime API endpoint (compat.md §1): an HTTP server on a unix socket in the
 * environment's own directory, bind-mounted into its container. The runtime pulls work with
 * `GET …/invocation/next`; `dispatch` answers that parked poll with an event and waits for the
 * `response` or `error` post, the deadline, or the container's exit.
 *
 * Invariants: at most one invocation in flight; a post for any other request id gets 400, a
 * second post for the same id 403 (the RIE rules), both validated before any state changes.
 */
import { chmod } from 'node:fs/promises';
import http from 'node:http';
import type { Socket } from 'node:net';
import { answerClientErrors } from '../../common/http-boundary.js';
import type { Logger } from '../../common/logger.js';
import { decodeComponent } from '../../common/safe-decode.js';
import type { ContainerExit } from '../containers/container-runtime.js';
import { MAX_RESPONSE_BYTES, type ReadyOutcome, type RuntimeEvent, type RuntimeReply } from './runtime-reply.js';
import { RuntimeApiBounds, type EnvironmentBounds } from './runtime-api-bounds.js';

const PREFIX = '/2018-06-01/runtime';
const MAX_ERROR_BYTES = 1024 * 1024;
/** sun_path is 108 bytes on Linux, its NUL included. */
export const MAX_SOCKET_PATH_BYTES = 107;

interface InFlight {
  readonly requestId: string;
  readonly startedAtNs: bigint;
  /** `…/invocation/{id}/`: its response or error post moves it forward. */
  readonly resultPathPrefix: string;
  readonly settle: (reply: RuntimeReply) => void;
  answered: boolean;
}

export class RuntimeChannel {
  private readonly server: http.Server;
  private readonly sockets = new Set<Socket>();
  private parkedNext: http.ServerResponse | undefined;
  private nextWaiters: (() => void)[] = [];
  private inFlight: InFlight | undefined;
  private readyWaiter: ((o: ReadyOutcome) => void) | undefined;
  private everPolled = false;
  /** An init/error that arrived before anyone called ready(). */
  private earlyInitError: ReadyOutcome | undefined;
  private exited: { exit: ContainerExit | undefined } | undefined;
  /** A stem cell's parked `GET /gantry/v1/specialize`, answered once with its function. */
  private parkedSpecialize: http.ServerResponse | undefined;
  private specializeWaiter: (() => void) | undefined;

  private readonly bounds: EnvironmentBounds;
  private readonly logger: Logger | undefined;

  /**
   * `logger` receives what the error boundary catches (the function is not told why); `bounds`
   * is the node's Runtime API budget, shared by every environment's socket.
   */
  constructor(
    private readonly socketPath: string,
    opts: { readonly logger?: Logger | undefined; readonly bounds?: RuntimeApiBounds | undefined } = {},
  ) {
    this.logger = opts.logger;
    this.bounds = (opts.bounds ?? new RuntimeApiBounds()).forEnvironment();
    // The function on the other end is hostile until proven otherwise: whatever one of its
    // requests breaks ends that request with a 500, never the process.
    this.server = http.createServer({ maxHeaderSize: this.bounds.limits.maxHeaderBytes }, (req, res) => {
      try {
        if (this.admitRequest(req, res)) this.route(req, res)?.catch((e: unknown) => this.failed(res, e));
      } catch (e) {
        this.failed(res, e);
      }
    });
    // The /next poll is held open for as long as the environment stays warm.
    this.server.requestTimeout = 0;
    this.server.headersTimeout = 0;
    this.server.keepAliveTimeout = 0;
    this.server.timeout = 0;
    answerClientErrors(this.server, (status) => ({
      contentType: 'application/json',
      text: JSON.stringify(status === 500 ? { errorType: 'ServiceException', errorMessage: 'Internal error' } : { errorType: 'InvalidRequest', errorMessage: http.STATUS_CODES[status] ?? 'Bad Request' }),
    }));
    // Past the cap Node closes a new connection on accept, before a Socket or parser exists.
    this.server.maxConnections = this.bounds.limits.maxConnections;
    this.server.on('drop', () => this.bounds.droppedAtCap());
    this.server.on('connection', (s: Socket) => {
      if (!this.bounds.admit(s)) return void s.destroy();
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  async listen(): Promise<void> {
    // Node binds a longer path truncated, somewhere nobody connects to: refuse it plainly.
    const bytes = Buffer.byteLength(this.socketPath);
    if (bytes > MAX_SOCKET_PATH_BYTES) throw new Error(`runtime socket path is ${bytes} bytes, over the ${MAX_SOCKET_PATH_BYTES} a unix socket allows: ${this.socketPath}`);
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.socketPath, () => resolve());
    });
    this.bounds.reserve();
    // The function runs as a non-root user: it must be able to connect (design.md).
    await chmod(this.socketPath, 0o666);
  }

  /** Resolves when the runtime first polls `next` (init done), reports init/error, exits, or times out. */
  ready(timeoutMs: number): Promise<ReadyOutcome> {
    if (this.everPolled) return Promise.resolve({ kind: 'ready' });
    if (this.earlyInitError) return Promise.resolve(this.earlyInitError);
    if (this.exited) return Promise.resolve({ kind: 'exited', exit: this.exited.exit });
    return new Promise((resolve) => {
      const timer = setTimeout(() => settle({ kind: 'timeout' }), timeoutMs);
      const settle = (o: ReadyOutcome) => {
        clearTimeout(timer);
        this.readyWaiter = undefined;
        resolve(o);
      };
      this.readyWaiter = settle;
    });
  }

  /**
   * A stem cell is ready once its runtime waits for a function (design.md, Stem cells). Resolves
   * true then, false when it exits or does not ask within `timeoutMs`.
   */
  awaitSpecializeRequest(timeoutMs: number): Promise<boolean> {
    if (this.parkedSpecialize) return Promise.resolve(true);
    if (this.exited) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(false), timeoutMs);
      const done = (ok: boolean) => {
        clearTimeout(timer);
        this.specializeWaiter = undefined;
        resolve(ok);
      };
      this.specializeWaiter = () => done(this.parkedSpecialize !== undefined);
    });
  }

  /** Answers the parked specialize poll: the runtime sets this environment, then loads its handler. */
  specialize(environment: Readonly<Record<string, string>>): boolean {
    const res = this.parkedSpecialize;
    if (!res || res.writableEnded || this.exited) return false;
    this.parkedSpecialize = undefined;
    sendJson(res, 200, { environment });
    return true;
  }

  /**
   * Hands `event` to the runtime once it polls (within `pollWaitMs`), then waits for its answer
   * for `timeoutMs` from the moment of delivery, which is when the function's clock starts.
   */
  async dispatch(event: RuntimeEvent, timeoutMs: number, pollWaitMs: number): Promise<RuntimeReply> {
    if (this.inFlight) throw new Error('dispatch while an invocation is in flight');
    const polled = await this.waitForPoll(pollWaitMs);
    if (!polled || this.exited) return { kind: 'not-delivered' };
    const next = this.parkedNext as http.ServerResponse;
    this.parkedNext = undefined;
    return new Promise<RuntimeReply>((resolve) => {
      const startedAtNs = process.hrtime.bigint();
      const timer = setTimeout(() => settle({ kind: 'timeout', timing: { startedAtNs, endedAtNs: process.hrtime.bigint() } }), timeoutMs);
      const settle = (reply: RuntimeReply) => {
        clearTimeout(timer);
        if (this.inFlight?.requestId === event.requestId) this.inFlight.answered = true;
        resolve(reply);
      };
      this.inFlight = { requestId: event.requestId, startedAtNs, resultPathPrefix: `${PREFIX}/invocation/${event.requestId}/`, settle, answered: false };
      writeNextResponse(next, event, Date.now() + timeoutMs);
    });
  }

  /** The invocation is over (answered or abandoned): later posts for it are refused. */
  finishInvocation(): void {
    this.inFlight = undefined;
  }

  /** Called once the container has stopped: everything waiting on the runtime resolves now. */
  markExited(exit: ContainerExit | undefined): void {
    if (this.exited) return;
    this.exited = { exit };
    this.readyWaiter?.({ kind: 'exited', exit });
    this.specializeWaiter?.();
    const f = this.inFlight;
    if (f && !f.answered) f.settle({ kind: 'exited', exit, timing: { startedAtNs: f.startedAtNs, endedAtNs: process.hrtime.bigint() } });
    for (const w of this.nextWaiters.splice(0)) w();
  }

  async close(): Promise<void> {
    this.markExited(this.exited?.exit);
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.bounds.unreserve();
  }

  private waitForPoll(timeoutMs: number): Promise<boolean> {
    if (this.parkedNext) return Promise.resolve(true);
    if (this.exited) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        resolve(this.parkedNext !== undefined);
      };
      const timer = setTimeout(() => {
        this.nextWaiters = this.nextWaiters.filter((w) => w !== done);
        resolve(false);
      }, timeoutMs);
      this.nextWaiters.push(done);
    });
  }

  /**
   * Requests that move an invocation forward (the poll that waits for work, the one post that
   * answers it, a stem cell's first specialize poll) are free; any other draws from the
   * environment's request rate, and past it gets 429 and a closed connection. Those requests
   * never keep a connection whose body they do not need, so a body is not drained for them.
   */
  private admitRequest(req: http.IncomingMessage, res: http.ServerResponse): boolean {
    if (this.movesForward(req)) return true;
    if (!this.bounds.admitIdleRequest()) {
      res.setHeader('Connection', 'close');
      sendJson(res, 429, { errorType: 'TooManyRequestsException', errorMessage: 'Runtime API request rate exceeded' });
      return false;
    }
    if (hasBody(req)) res.setHeader('Connection', 'close');
    return true;
  }

  private movesForward(req: http.IncomingMessage): boolean {
    const url = req.url;
    if (req.method === 'GET') {
      if (hasBody(req)) return false;
      if (url === `${PREFIX}/invocation/next`) return this.parkedNext === undefined && !this.exited;
      return url === '/gantry/v1/specialize' && !this.everPolled && this.parkedSpecialize === undefined;
    }
    const f = this.inFlight;
    if (req.method !== 'POST' || !f || f.answered || url === undefined) return false;
    const p = f.resultPathPrefix;
    const rest = url.length - p.length;
    return ((rest === 8 && url.endsWith('response')) || (rest === 5 && url.endsWith('error'))) && url.startsWith(p);
  }

  /** Returns the handler's promise when it has one, for the error boundary to watch. */
  private route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> | undefined {
    const url = req.url ?? '';
    if (req.method === 'GET' && url === `${PREFIX}/invocation/next`) return void this.onNext(req, res);
    if (req.method === 'POST' && url === `${PREFIX}/init/error`) return this.onInitError(req, res);
    const m = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/.exec(url);
    if (req.method === 'POST' && m) {
      // A malformed escape names no request id at all, so in particular not the current one.
      const id = decodeComponent(m[1] as string);
      if (id === undefined) {
        req.resume();
        return void sendJson(res, 400, { errorType: 'InvalidRequestID', errorMessage: 'Invalid request ID' });
      }
      return this.onResult(req, res, id, m[2] as 'response' | 'error');
    }
    if (req.method === 'GET' && url === '/gantry/v1/specialize') return void this.onSpecialize(req, res);
    if (req.method === 'GET' && url === '/ping') return void sendJson(res, 200, { status: 'OK' });
    sendJson(res, 404, { errorType: 'NotFound', errorMessage: 'Unknown Runtime API path' });
    return undefined;
  }

  private failed(res: http.ServerResponse, e: unknown): void {
    this.logger?.error({ err: e as Error }, 'runtime api request failed');
    if (res.headersSent || res.destroyed) {
      res.destroy();
      return;
    }
    sendJson(res, 500, { errorType: 'ServiceException', errorMessage: 'Internal error' });
  }

  private onNext(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (this.parkedNext) sendJson(this.parkedNext, 500, { errorType: 'InvalidStateTransition', errorMessage: 'superseded poll' });
    this.parkedNext = res;
    req.on('close', () => {
      if (this.parkedNext === res && !res.writableEnded) this.parkedNext = undefined;
    });
    if (!this.everPolled) {
      this.everPolled = true;
      this.readyWaiter?.({ kind: 'ready' });
    }
    for (const w of this.nextWaiters.splice(0)) w();
  }

  private onSpecialize(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (this.everPolled || this.parkedSpecialize) {
      return sendJson(res, 403, { errorType: 'InvalidStateTransition', errorMessage: 'Already specialized' });
    }
    this.parkedSpecialize = res;
    req.on('close', () => {
      if (this.parkedSpecialize === res && !res.writableEnded) this.parkedSpecialize = undefined;
    });
    this.specializeWaiter?.();
  }

  private async onResult(req: http.IncomingMessage, res: http.ServerResponse, id: string, kind: 'response' | 'error'): Promise<void> {
    const f = this.inFlight;
    if (!f || f.requestId !== id) {
      req.resume();
      return sendJson(res, 400, { errorType: 'InvalidRequestID', errorMessage: 'Invalid request ID' });
    }
    if (f.answered) {
      req.resume();
      return sendJson(res, 403, { errorType: 'InvalidStateTransition', errorMessage: 'Invocation already answered' });
    }
    const limit = kind === 'response' ? MAX_RESPONSE_BYTES : MAX_ERROR_BYTES;
    const body = await readBody(req, limit, this.bounds);
    const timing = { startedAtNs: f.startedAtNs, endedAtNs: process.hrtime.bigint() };
    if (f.answered) return sendJson(res, 403, { errorType: 'InvalidStateTransition', errorMessage: 'Invocation already answered' });
    if (body === undefined) {
      f.settle({ kind: 'too-large', timing });
      return sendJson(res, 413, {
        errorType: 'RequestEntityTooLarge',
        errorMessage: `Exceeded maximum allowed payload size (${MAX_RESPONSE_BYTES} bytes).`,
      });
    }
    if (kind === 'response') {
      f.settle({ kind: 'response', body, contentType: req.headers['content-type'] ?? '', timing });
    } else {
      f.settle({ kind: 'error', errorType: errorTypeOf(req, body), body, timing });
    }
    sendJson(res, 202, { status: 'OK' });
  }

  private async onInitError(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const body = (await readBody(req, MAX_ERROR_BYTES, this.bounds)) ?? Buffer.from('{}');
    const errorType = errorTypeOf(req, body);
    const f = this.inFlight;
    if (this.readyWaiter) {
      this.readyWaiter({ kind: 'init-error', errorType, body });
    } else if (!this.everPolled && !f) {
      this.earlyInitError = { kind: 'init-error', errorType, body };
    } else if (f && !f.answered) {
      // A re-init during an invoke ("suppressed init", compat.md §1.1): that invoke gets the error.
      f.settle({ kind: 'error', errorType, body, timing: { startedAtNs: f.startedAtNs, endedAtNs: process.hrtime.bigint() } });
    } else {
      return sendJson(res, 403, { errorType: 'InvalidStateTransition', errorMessage: 'Not initializing' });
    }
    sendJson(res, 202, { status: 'OK' });
  }
}

function writeNextResponse(res: http.ServerResponse, e: RuntimeEvent, deadlineEpochMs: number): void {
  const headers: Record<string, string | number> = {
    'Content-Type': 'application/json',
    'Content-Length': e.payload.length,
    'Lambda-Runtime-Aws-Request-Id': e.requestId,
    'Lambda-Runtime-Deadline-Ms': String(deadlineEpochMs),
    'Lambda-Runtime-Invoked-Function-Arn': e.invokedFunctionArn,
  };
  // The RIE leaves out headers whose value is empty.
  if (e.traceId) headers['Lambda-Runtime-Trace-Id'] = e.traceId;
  if (e.clientContext) headers['Lambda-Runtime-Client-Context'] = e.clientContext;
  res.writeHead(200, headers);
  res.end(e.payload);
}

/**
 * The body, or undefined once it exceeds `limit` (the rest is drained, not buffered). Reading
 * pauses while the environment is over its byte rate, so a flood costs it time, not the node CPU.
 */
function readBody(req: http.IncomingMessage, limit: number, bounds: EnvironmentBounds): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      const waitMs = bounds.chargeBytes(c.length);
      if (waitMs > 0) {
        req.pause();
        setTimeout(() => req.resume(), waitMs).unref();
      }
      size += c.length;
      if (size > limit) over = true;
      if (!over) chunks.push(c);
    });
    req.on('end', () => resolve(over ? undefined : Buffer.concat(chunks)));
    req.on('error', () => resolve(over ? undefined : Buffer.concat(chunks)));
  });
}

/** The errorType the caller sees: from the body when it names one, else the header, else Unknown. */
function errorTypeOf(req: http.IncomingMessage, body: Buffer): string {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { errorType?: unknown };
    if (typeof parsed.errorType === 'string' && parsed.errorType !== '') return parsed.errorType;
  } catch {
    // Not JSON: fall back to the header.
  }
  const header = req.headers['lambda-runtime-function-error-type'];
  return typeof header === 'string' && header !== '' ? header : 'Runtime.Unknown';
}

function hasBody(req: http.IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}
