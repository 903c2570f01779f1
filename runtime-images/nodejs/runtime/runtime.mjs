// The init phase and the invoke loop, with the completion semantics of the official Node.js RIC
// (compat.md §1.6).
//
// Completion:
// - a handler that returns a thenable: response/error as soon as it settles;
// - callback(err, result): an error is posted at once; a result is posted at once when
//   context.callbackWaitsForEmptyEventLoop is false, otherwise when the event loop drains;
// - context.succeed/fail/done: posted at once;
// - only the first call of any completion function counts;
// - a handler that returns a non-thenable and never calls back: `null` once the loop drains;
// - a promise that never settles: Runtime.NodeJsExit once the loop drains.
//
// "The event loop drains" is detected exactly as the RIC does: with process 'beforeExit', which
// Node emits when no ref'd handle or request is left. Between `next` returning and the result
// being posted, the runtime itself holds nothing ref'd (the keep-alive agent unrefs its idle
// socket), so 'beforeExit' fires precisely when the handler's own timers, sockets, and so on are
// done. The listener then posts, which gives the loop work again, and the process lives on.
// A handler that leaves a ref'd handle behind (e.g. an open server or setInterval) with
// callbackWaitsForEmptyEventLoop = true never completes, so the platform times it out, as Lambda does.
//
// Uncaught exception / unhandled rejection: during init → init/error and exit (129/128);
// during an invocation → an error for that invocation, then exit (129/128); when no invocation
// is open → exit after any post in flight.
import { buildContext, updateTraceEnv } from './context.mjs';
import {
  MarshalError,
  NodeJsExit,
  UnhandledPromiseRejection,
  formatForLog,
  toErrorResponse,
} from './errors.mjs';

const EXIT_INIT_FAILED = 1;
const EXIT_PLATFORM_FAILED = 1;
const EXIT_UNCAUGHT_EXCEPTION = 129;
const EXIT_UNHANDLED_REJECTION = 128;

export class Runtime {
  #client;
  #env;
  #writeStderr;
  #exit;
  #handler = undefined;
  /** 'init' | 'running' | 'exiting' */
  #phase = 'init';
  /** The open invocation: {requestId, completed, finished, waits, posting} */
  #current = null;
  /** What to do when the event loop drains ('beforeExit'). */
  #onDrain = null;

  /**
   * @param {object} deps
   * @param {import('./runtime-client.mjs').RuntimeClient} deps.client
   * @param {Record<string, string | undefined>} [deps.env]
   * @param {(s: string) => void} [deps.writeStderr]
   * @param {(code: number) => void} [deps.exit]
   */
  constructor({ client, env = process.env, writeStderr = (s) => process.stderr.write(s), exit = (c) => process.exit(c) }) {
    this.#client = client;
    this.#env = env;
    this.#writeStderr = writeStderr;
    this.#exit = exit;
  }

  /** Register the process-level listeners. Call before loading user code. */
  installProcessHooks() {
    process.on('beforeExit', () => {
      const onDrain = this.#onDrain;
      this.#onDrain = null;
      if (onDrain) onDrain();
    });
    process.on('uncaughtException', (err) => this.#crash(err, 'Uncaught Exception', EXIT_UNCAUGHT_EXCEPTION));
    process.on('unhandledRejection', (reason) =>
      this.#crash(new UnhandledPromiseRejection(reason), 'Unhandled Promise Rejection', EXIT_UNHANDLED_REJECTION),
    );
  }

  /**
   * Run `load` (which loads the handler). On failure post init/error and exit(1); the returned
   * promise then resolves to undefined.
   * @param {() => Promise<Function>} load
   * @returns {Promise<Function | undefined>}
   */
  async init(load) {
    this.#onDrain = () =>
      this.#failInit(
        new NodeJsExit('Init did not finish: the event loop drained while loading the handler (a top-level await that never settles?)'),
        EXIT_INIT_FAILED,
      );
    try {
      const handler = await load();
      if (this.#phase !== 'init') return undefined;
      this.#onDrain = null;
      return handler;
    } catch (err) {
      await this.#failInit(err, EXIT_INIT_FAILED);
      return undefined;
    }
  }

  /** Enter the invoke loop with the loaded handler. */
  run(handler) {
    if (this.#phase !== 'init') return;
    this.#handler = handler;
    this.#phase = 'running';
    void this.#pollNext();
  }

  async #pollNext() {
    let next;
    try {
      next = await this.#client.nextInvocation();
    } catch (err) {
      this.#die('Runtime API next failed', err, EXIT_PLATFORM_FAILED);
      return;
    }
    if (this.#phase !== 'running') return;
    this.#invoke(next);
  }

  #invoke({ requestId, body, headers }) {
    const inv = { requestId, completed: false, finished: false, waits: true, posting: undefined };
    this.#current = inv;
    updateTraceEnv(headers, this.#env);

    const finish = (outcome) => {
      if (inv.finished) return;
      inv.finished = true;
      if (this.#current === inv) this.#onDrain = null;
      inv.posting = this.#post(inv, outcome);
      void inv.posting.then((ok) => {
        if (this.#current === inv) this.#current = null;
        if (ok && this.#phase === 'running') void this.#pollNext();
      });
    };
    const callback = (err, result) => {
      if (inv.completed) return;
      inv.completed = true;
      if (err !== undefined && err !== null) finish({ error: err });
      else if (!inv.waits) finish({ result });
      else this.#onDrain = () => setImmediate(() => finish({ result }));
    };
    const done = (err, result) => {
      if (inv.completed) return;
      inv.completed = true;
      if (err !== undefined && err !== null) finish({ error: err });
      else finish({ result });
    };
    const succeed = (result) => done(null, result);
    const fail = (err) => done(err === undefined || err === null ? 'handled' : err);

    // Sync handler that returns a non-thenable and never calls back: null once the loop drains.
    this.#onDrain = () => {
      if (inv.completed) return;
      inv.completed = true;
      finish({ result: null });
    };
    try {
      const event = JSON.parse(body);
      const context = buildContext({
        headers,
        env: this.#env,
        completion: {
          succeed,
          fail,
          done,
          getWaitsForEmptyEventLoop: () => inv.waits,
          setWaitsForEmptyEventLoop: (v) => {
            inv.waits = v;
          },
        },
      });
      const result = this.#handler(event, context, callback);
      if (isThenable(result)) {
        if (!inv.completed) {
          this.#onDrain = () =>
            done(new NodeJsExit('Runtime exited without providing a reason: the handler returned a promise that never settled'));
        }
        result.then(succeed, fail);
      }
    } catch (err) {
      callback(err);
    }
  }

  /** Post the outcome. Resolves true when the loop may go on, false when the runtime exits. */
  async #post(inv, outcome) {
    try {
      if ('error' in outcome) {
        await this.#postError(inv.requestId, outcome.error);
        return true;
      }
      let json;
      try {
        json = JSON.stringify(outcome.result === undefined ? null : outcome.result) ?? 'null';
      } catch (err) {
        await this.#postError(inv.requestId, new MarshalError(err));
        return true;
      }
      await this.#client.postInvocationResponse(inv.requestId, json);
      return true;
    } catch (err) {
      if (err && err.fatal === false) {
        // The platform refused the post (stale id, already answered, too large); it decides the
        // invocation's outcome itself. Keep serving.
        this.#logLine(inv.requestId, 'ERROR', `Runtime API refused the result: ${err.message}`);
        return true;
      }
      this.#die('Runtime API post failed', err, EXIT_PLATFORM_FAILED);
      return false;
    }
  }

  #postError(requestId, error) {
    const body = toErrorResponse(error);
    this.#logLine(requestId, 'ERROR', `Invoke Error \t${formatForLog(body)}`);
    return this.#client.postInvocationError(requestId, body);
  }

  async #failInit(err, code) {
    if (this.#phase === 'exiting') return;
    this.#phase = 'exiting';
    this.#onDrain = null;
    const body = toErrorResponse(err);
    this.#logLine(undefined, 'ERROR', `Init Error \t${formatForLog(body)}`);
    try {
      await this.#client.postInitError(body);
    } catch (postErr) {
      this.#logLine(undefined, 'ERROR', `Runtime API init/error failed: ${postErr && postErr.message}`);
    }
    this.#exit(code);
  }

  #crash(err, label, code) {
    if (this.#phase === 'exiting') return;
    if (this.#phase === 'init') {
      void this.#failInit(err, code);
      return;
    }
    this.#phase = 'exiting';
    this.#onDrain = null;
    const inv = this.#current;
    const body = toErrorResponse(err);
    this.#logLine(inv?.requestId, 'ERROR', `${label} \t${formatForLog(body)}`);
    let pending;
    if (inv && !inv.finished) {
      inv.finished = inv.completed = true;
      pending = this.#client.postInvocationError(inv.requestId, body);
    } else {
      pending = inv?.posting; // let a result already on its way arrive
    }
    Promise.resolve(pending)
      .catch(() => {})
      .finally(() => this.#exit(code));
  }

  #die(what, err, code) {
    if (this.#phase === 'exiting') return;
    this.#phase = 'exiting';
    this.#onDrain = null;
    this.#logLine(this.#current?.requestId, 'ERROR', `${what}: ${err && err.message}`);
    this.#exit(code);
  }

  /** One log line in the Lambda text format: timestamp, request id, level, message. */
  #logLine(requestId, level, message) {
    try {
      this.#writeStderr(`${new Date().toISOString()}\t${requestId ?? 'undefined'}\t${level}\t${message}\n`);
    } catch {
      // stderr gone: nothing sensible left to do
    }
  }
}

function isThenable(value) {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof value.then === 'function';
}
