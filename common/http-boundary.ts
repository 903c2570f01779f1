/**
 * The per-request error boundary every Gantry HTTP server stands behind. Node turns a throw in a
 * request listener into an uncaught exception, which ends the process (common/process.ts) and
 * every warm environment with it; here it ends only the request that caused it, with a 500 in
 * that server's error family, logged once with its cause. A request Node's parser refuses (bad
 * chunked encoding, a CR in a header, headers too large) is answered the same way, in the
 * server's family instead of Node's empty body.
 */
import http from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from './logger.js';

/** The body a server answers with for `status` (its own error family, api.md "Errors"). */
export type ErrorBody = (status: number) => { readonly contentType: string; readonly text: string };

type Listener = (req: http.IncomingMessage, res: http.ServerResponse) => void;

/**
 * Wraps `listener` so a synchronous throw becomes a 500 for that request alone. Asynchronous
 * handlers catch their own rejections: only they know which response is theirs to finish.
 */
export function guarded(listener: Listener, logger: Logger, body: ErrorBody): Listener {
  return (req, res) => {
    try {
      listener(req, res);
    } catch (e) {
      failRequest(res, e, logger, body, req);
    }
  };
}

/** Ends `res` with a 500 in the server's family (or cuts it if the head already went out). */
export function failRequest(res: http.ServerResponse, e: unknown, logger: Logger, body: ErrorBody, req?: http.IncomingMessage): void {
  logger.error({ err: e as Error, method: req?.method, path: req?.url }, 'request failed');
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  const { contentType, text } = body(500);
  res.writeHead(500, { 'content-type': contentType, 'content-length': Buffer.byteLength(text), connection: 'close' });
  res.end(text);
}

/** Installs a 'clientError' listener that answers as Node does, with the server's own body. */
export function answerClientErrors(server: http.Server, body: ErrorBody): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    const status = clientErrorStatus(err.code);
    // Like Node's own handler: never write into a response that has begun, nor to a peer gone.
    const inFlight = (socket as Duplex & { _httpMessage?: http.ServerResponse })._httpMessage;
    if (status !== undefined && socket.writable && !inFlight?.headersSent) {
      const { contentType, text } = body(status);
      socket.write(
        `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? 'Error'}\r\nContent-Type: ${contentType}\r\n` +
          `Content-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
      );
    }
    socket.destroy();
  });
}

function clientErrorStatus(code: string | undefined): number | undefined {
  switch (code) {
    case 'ECONNRESET':
    case 'EPIPE':
      return undefined;
    case 'HPE_HEADER_OVERFLOW':
      return 431;
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return 413;
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return 408;
    default:
      return 400;
  }
}
