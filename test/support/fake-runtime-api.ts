// A small fake of the Lambda Runtime API (compat.md §1.1) on a temporary unix socket, for
// testing runtime clients without the control plane. It records every call, lets a test queue
// invocations, and lets it await each invocation's response or error and the init error.
//
// Behaviour, as the RIE: `next` is held until an event is queued; a result for an id other than
// the one `next` handed out gets 400 InvalidRequestID, a second result for it 403
// InvalidStateTransition; accepted posts get 202 {"status":"OK"}.
import { randomUUID } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface QueuedInvocation {
  requestId?: string;
  /** Absolute deadline, epoch ms. Default: now + 30 s when `next` hands it out. */
  deadlineMs?: number;
  invokedFunctionArn?: string;
  traceId?: string;
  /** JSON text, sent as is (already decoded, as the platform must). */
  clientContext?: string;
  /** JSON text. */
  cognitoIdentity?: string;
  /** Raw body; default JSON.stringify(payload). */
  rawBody?: string;
}

export interface RecordedPost {
  kind: 'response' | 'error' | 'init-error';
  /** undefined for init errors */
  requestId: string | undefined;
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** The body's bytes, for results that are not text. */
  raw: Buffer;
  receivedAtMs: number;
}

export interface InvocationResult {
  kind: 'response' | 'error';
  requestId: string;
  headers: IncomingHttpHeaders;
  body: string;
  raw: Buffer;
  /** JSON.parse(body) */
  json: unknown;
}

interface Waiter {
  match: (p: RecordedPost) => boolean;
  resolve: (p: RecordedPost) => void;
}

const API = '/2018-06-01';
const DEFAULT_WAIT_MS = 10_000;

export class FakeRuntimeApi {
  /** Every accepted or rejected post, in arrival order. */
  readonly posts: RecordedPost[] = [];
  /** Number of `next` requests received. */
  nextCalls = 0;

  readonly #queue: { requestId: string; payload: unknown; options: QueuedInvocation }[] = [];
  readonly #pendingNext: ServerResponse[] = [];
  readonly #answered = new Set<string>();
  #currentRequestId: string | undefined;
  #waiters: Waiter[] = [];
  #nextWaiters: (() => void)[] = [];
  #closed = false;

  private constructor(
    readonly dir: string,
    readonly socketPath: string,
    private readonly server: http.Server,
  ) {}

  /**
   * Listen on `<new temp dir>/<socketName>`. The directory is 0755 and the socket 0666, so a
   * runtime running as another uid (a container's) can connect.
   */
  static async start(options: { socketName?: string } = {}): Promise<FakeRuntimeApi> {
    const dir = await mkdtemp(path.join(tmpdir(), 'gantry-fake-rapi-'));
    await chmod(dir, 0o755);
    const socketPath = path.join(dir, options.socketName ?? 'runtime.sock');
    const server = http.createServer({ keepAlive: true });
    const fake = new FakeRuntimeApi(dir, socketPath, server);
    server.on('request', (req, res) => fake.#handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => resolve());
    });
    await chmod(socketPath, 0o666);
    return fake;
  }

  /** Queue an invocation; returns its request id. */
  queue(payload: unknown, options: QueuedInvocation = {}): string {
    const requestId = options.requestId ?? randomUUID();
    this.#queue.push({ requestId, payload, options });
    this.#dispatch();
    return requestId;
  }

  /** Queue an invocation and wait for its response or error. */
  async invoke(payload: unknown, options: QueuedInvocation = {}, timeoutMs = DEFAULT_WAIT_MS): Promise<InvocationResult> {
    return this.waitForResult(this.queue(payload, options), timeoutMs);
  }

  /** The accepted response or error posted for `requestId`. */
  async waitForResult(requestId: string, timeoutMs = DEFAULT_WAIT_MS): Promise<InvocationResult> {
    const post = await this.#waitForPost(
      (p) => p.requestId === requestId && p.kind !== 'init-error' && p.status === 202,
      timeoutMs,
      `a response or error for invocation ${requestId}`,
    );
    return {
      kind: post.kind as 'response' | 'error',
      requestId,
      headers: post.headers,
      body: post.body,
      raw: post.raw,
      json: parseJson(post.body),
    };
  }

  async waitForInitError(timeoutMs = DEFAULT_WAIT_MS): Promise<RecordedPost & { json: unknown }> {
    const post = await this.#waitForPost((p) => p.kind === 'init-error', timeoutMs, 'an init error');
    return { ...post, json: parseJson(post.body) };
  }

  /** Resolves once the runtime has a `next` poll waiting (it finished init / the last invoke). */
  async waitForPoll(timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    if (this.#pendingNext.length > 0) return;
    await withTimeout(
      new Promise<void>((resolve) => this.#nextWaiters.push(resolve)),
      timeoutMs,
      'the runtime to poll /runtime/invocation/next',
    );
  }

  /** Whether a `next` poll is currently held open. */
  get pollPending(): boolean {
    return this.#pendingNext.some((res) => !res.writableEnded && !res.destroyed);
  }

  /** Idempotent: stops listening, drops open connections, removes the temp dir. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const w of this.#waiters) w.resolve = () => {};
    this.#waiters = [];
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    await rm(this.dir, { recursive: true, force: true });
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const body = raw.toString('utf8');
      const url = req.url ?? '';
      if (req.method === 'GET' && url === `${API}/runtime/invocation/next`) {
        this.nextCalls += 1;
        this.#pendingNext.push(res);
        const waiters = this.#nextWaiters;
        this.#nextWaiters = [];
        for (const w of waiters) w();
        this.#dispatch();
        return;
      }
      if (req.method === 'POST' && url === `${API}/runtime/init/error`) {
        this.#record({ kind: 'init-error', requestId: undefined, headers: req.headers, body, raw }, res, 202);
        return;
      }
      const m = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/.exec(url);
      if (req.method === 'POST' && m) {
        const requestId = decodeURIComponent(m[1] ?? '');
        const kind = m[2] as 'response' | 'error';
        let status = 202;
        if (this.#answered.has(requestId)) status = 403;
        else if (requestId !== this.#currentRequestId) status = 400;
        if (status === 202) {
          this.#answered.add(requestId);
          this.#currentRequestId = undefined;
        }
        this.#record({ kind, requestId, headers: req.headers, body, raw }, res, status);
        return;
      }
      send(res, 404, { errorType: 'NotFound', errorMessage: `no route for ${req.method} ${url}` });
    });
  }

  #record(post: Omit<RecordedPost, 'status' | 'receivedAtMs'>, res: ServerResponse, status: number): void {
    const recorded: RecordedPost = { ...post, status, receivedAtMs: Date.now() };
    this.posts.push(recorded);
    if (status === 202) send(res, 202, { status: 'OK' });
    else if (status === 400) send(res, 400, { errorType: 'InvalidRequestID', errorMessage: 'Invalid request ID' });
    else send(res, status, { errorType: 'InvalidStateTransition', errorMessage: 'Invalid state transition' });
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) {
      if (w.match(recorded)) w.resolve(recorded);
      else this.#waiters.push(w);
    }
  }

  #dispatch(): void {
    while (this.#queue.length > 0 && this.#currentRequestId === undefined) {
      const res = this.#pendingNext.shift();
      if (!res) return;
      if (res.destroyed || res.writableEnded) continue;
      const item = this.#queue.shift();
      if (!item) return;
      const { requestId, payload, options } = item;
      const body = options.rawBody ?? JSON.stringify(payload);
      const headers: Record<string, string | number> = {
        'Content-Type': 'application/json',
        'Content-Length': Buffer.byteLength(body),
        'Lambda-Runtime-Aws-Request-Id': requestId,
        'Lambda-Runtime-Deadline-Ms': String(options.deadlineMs ?? Date.now() + 30_000),
        'Lambda-Runtime-Invoked-Function-Arn':
          options.invokedFunctionArn ?? 'arn:aws:lambda:us-east-1:000000000000:function:test-fn',
      };
      if (options.traceId) headers['Lambda-Runtime-Trace-Id'] = options.traceId;
      if (options.clientContext) headers['Lambda-Runtime-Client-Context'] = options.clientContext;
      if (options.cognitoIdentity) headers['Lambda-Runtime-Cognito-Identity'] = options.cognitoIdentity;
      this.#currentRequestId = requestId;
      res.writeHead(200, headers);
      res.end(body);
    }
  }

  #waitForPost(match: (p: RecordedPost) => boolean, timeoutMs: number, what: string): Promise<RecordedPost> {
    const found = this.posts.find(match);
    if (found) return Promise.resolve(found);
    return withTimeout(
      new Promise<RecordedPost>((resolve) => this.#waiters.push({ match, resolve })),
      timeoutMs,
      `${what} (posts so far: ${JSON.stringify(this.posts.map((p) => `${p.kind}:${p.status}:${p.requestId ?? ''}`))})`,
    );
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

async function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
