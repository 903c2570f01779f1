// Lambda Runtime API client (compat.md §1.1–1.3) over a unix socket (Gantry's own transport,
// design.md "Why a unix socket") or host:port TCP (what stock clients use). Node's `http` with
// one keep-alive connection (Agent maxSockets 1), like the RIC's JS client. Bodies are sent with
// Content-Length, never chunked.
import http from 'node:http';
import { errorTypeHeader } from './errors.mjs';

const API_PREFIX = '/2018-06-01';

/** Connect failures that can mean "the platform's socket is not listening yet". */
const RETRYABLE_CONNECT_CODES = new Set(['ENOENT', 'ECONNREFUSED']);
const CONNECT_RETRY_WINDOW_MS = 2000;
const CONNECT_RETRY_INTERVAL_MS = 25;

/** Bounded waits for posts; `next` is a long poll and has none. */
const POST_TIMEOUT_MS = 60_000;
const INIT_ERROR_TIMEOUT_MS = 10_000;

/** A Runtime API call failed. `fatal` means the platform is gone or broken: the runtime exits. */
export class RuntimeApiError extends Error {
  constructor(message, { status, fatal, cause } = {}) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'RuntimeApiError';
    this.status = status;
    this.fatal = fatal ?? true;
  }
}

/**
 * @typedef {{socketPath: string} | {host: string, port: number}} RuntimeApiTarget
 * @typedef {{requestId: string, body: string, headers: Record<string, string | string[] | undefined>}} NextInvocation
 */

export class RuntimeClient {
  #target;
  #agent;

  /** @param {RuntimeApiTarget} target */
  constructor(target) {
    this.#target = target;
    this.#agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  }

  /**
   * Long-poll the next invocation. Any non-200, or a 200 without a request id, is fatal.
   * @returns {Promise<NextInvocation>}
   */
  async nextInvocation() {
    const res = await this.#request('GET', `${API_PREFIX}/runtime/invocation/next`, undefined, {}, 0);
    if (res.status !== 200) {
      throw new RuntimeApiError(`GET /runtime/invocation/next answered ${res.status}: ${snippet(res.body)}`, {
        status: res.status,
      });
    }
    const requestId = header(res.headers, 'lambda-runtime-aws-request-id');
    if (!requestId) {
      throw new RuntimeApiError('GET /runtime/invocation/next answered 200 without Lambda-Runtime-Aws-Request-Id', {
        status: res.status,
      });
    }
    return { requestId, body: res.body.toString('utf8'), headers: res.headers };
  }

  /**
   * Stem cells only: block until the platform assigns a function, then return the environment
   * it gives (handler, function name, the function's own variables, ...).
   * @returns {Promise<Record<string, string>>}
   */
  async specialize() {
    const res = await this.#request('GET', '/gantry/v1/specialize', undefined, {}, 0);
    if (res.status !== 200) {
      throw new RuntimeApiError(`GET /gantry/v1/specialize answered ${res.status}: ${snippet(res.body)}`, { status: res.status });
    }
    const parsed = JSON.parse(res.body.toString('utf8'));
    return parsed && typeof parsed.environment === 'object' ? parsed.environment : {};
  }

  /** @param {string} requestId @param {string} json the serialized result */
  postInvocationResponse(requestId, json) {
    return this.#post(`${API_PREFIX}/runtime/invocation/${encodeURIComponent(requestId)}/response`, json, {
      'Content-Type': 'application/json',
    });
  }

  /** @param {string} requestId @param {{errorType: string}} errorResponse */
  postInvocationError(requestId, errorResponse) {
    return this.#post(
      `${API_PREFIX}/runtime/invocation/${encodeURIComponent(requestId)}/error`,
      JSON.stringify(errorResponse),
      {
        'Content-Type': 'application/json',
        'Lambda-Runtime-Function-Error-Type': errorTypeHeader(errorResponse.errorType),
      },
    );
  }

  /** @param {{errorType: string}} errorResponse */
  postInitError(errorResponse) {
    return this.#post(
      `${API_PREFIX}/runtime/init/error`,
      JSON.stringify(errorResponse),
      {
        'Content-Type': 'application/json',
        'Lambda-Runtime-Function-Error-Type': errorTypeHeader(errorResponse.errorType),
      },
      INIT_ERROR_TIMEOUT_MS,
    );
  }

  close() {
    this.#agent.destroy();
  }

  /**
   * 2xx → done. 4xx → the platform refused this post (stale id, already answered, too large):
   * not fatal, the loop goes on. 5xx or no answer → fatal.
   */
  async #post(path, body, headers, timeoutMs = POST_TIMEOUT_MS) {
    const res = await this.#request('POST', path, body, headers, timeoutMs);
    if (res.status >= 200 && res.status < 300) return res;
    throw new RuntimeApiError(`POST ${path} answered ${res.status}: ${snippet(res.body)}`, {
      status: res.status,
      fatal: res.status >= 500,
    });
  }

  async #request(method, path, body, headers, timeoutMs) {
    const deadline = Date.now() + CONNECT_RETRY_WINDOW_MS;
    for (;;) {
      try {
        return await this.#requestOnce(method, path, body, headers, timeoutMs);
      } catch (err) {
        if (!(err && err.connectFailed && RETRYABLE_CONNECT_CODES.has(err.code)) || Date.now() >= deadline) {
          throw new RuntimeApiError(`${method} ${path} failed: ${err && err.message}`, { cause: err });
        }
        await new Promise((resolve) => setTimeout(resolve, CONNECT_RETRY_INTERVAL_MS));
      }
    }
  }

  #requestOnce(method, path, body, headers, timeoutMs) {
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : Buffer.from(body, 'utf8');
      const options = {
        ...this.#target,
        method,
        path,
        agent: this.#agent,
        headers: payload === undefined ? headers : { ...headers, 'Content-Length': payload.length },
      };
      let connected = false;
      const req = http.request(options, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      req.on('socket', (socket) => {
        if (!socket.connecting) connected = true; // reused keep-alive connection
        else socket.once('connect', () => (connected = true));
      });
      req.on('error', (err) => {
        if (!connected && err) err.connectFailed = true;
        reject(err);
      });
      if (timeoutMs > 0) {
        req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      }
      req.end(payload);
    });
  }
}

/**
 * Where the Runtime API is: an explicit socket path (argv) wins; else $GANTRY_RUNTIME_API_SOCKET;
 * else AWS_LAMBDA_RUNTIME_API (host:port) when the default socket does not exist; else the
 * default socket.
 * @returns {RuntimeApiTarget}
 */
export function resolveTarget({ argvSocketPath, env, defaultSocketPath, socketExists }) {
  if (argvSocketPath) return { socketPath: argvSocketPath };
  if (env.GANTRY_RUNTIME_API_SOCKET) return { socketPath: env.GANTRY_RUNTIME_API_SOCKET };
  const api = env.AWS_LAMBDA_RUNTIME_API;
  if (api && !socketExists(defaultSocketPath)) {
    const i = api.lastIndexOf(':');
    const host = (i > 0 ? api.slice(0, i) : api).replace(/^\[|\]$/g, '');
    const port = i > 0 ? Number(api.slice(i + 1)) : 80;
    return { host, port };
  }
  return { socketPath: defaultSocketPath };
}

function header(headers, name) {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function snippet(buf) {
  const s = buf.toString('utf8');
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
}
