/**
 * Malformed HTTP for fuzz tests: a corpus of bad paths, header values and bodies, fast-check
 * arbitraries built from it, and a raw-socket client that sends bytes as they are (no client
 * library would send most of them) and reports what came back, if anything, within a deadline.
 */
import net from 'node:net';
import fc from 'fast-check';

/** Path segments that have broken or confused servers: bad escapes, NUL, overlong UTF-8, dots. */
export const BAD_SEGMENTS = [
  '%E0%A4%A',
  '%',
  '%%',
  '%zz',
  '%0',
  'a%00b',
  '%00',
  '%C0%AF',
  '%C0%80',
  '%ED%A0%80',
  '%F8%88%80%80%80',
  '%FF%FE',
  '%EF%BF%BF',
  '..',
  '%2e%2e',
  '%2E%2E%2F%2E%2E',
  '.',
  '%2F',
  '%5C..%5C',
  '%u0041',
  '%25',
  '%0d%0aX-Injected:%20yes',
  '%7f',
  '\u00ff\u00fe',
  'x'.repeat(4_000),
  '%41'.repeat(1_500),
] as const;

/** Header values that are wrong in kind, size or encoding (sent as latin1 bytes). */
export const BAD_HEADER_VALUES = ['', ' ', 'br', 'gzip', 'deflate, br', 'x-unknown', 'identity;q=0', '\u00ff\u00fe\u00fd', '-1', '99999999999999999999', '1e3', 'chunked', 'chunked, chunked', 'text/plain; charset=latin9', 'application/json; charset=utf-16', 'application/zip', 'Bearer', 'Bearer \u00ff', 'x'.repeat(6_000)] as const;

/** Header names worth corrupting: what Gantry's servers read. */
export const INTERESTING_HEADERS = [
  'content-type',
  'content-encoding',
  'content-length',
  'transfer-encoding',
  'authorization',
  'host',
  'x-gantry-invocation-type',
  'x-gantry-log-type',
  'x-gantry-invocation-source',
  'x-api-key',
  'origin',
  'access-control-request-method',
  'cookie',
  'upgrade',
  'connection',
  'sec-websocket-key',
  'sec-websocket-version',
  'sec-websocket-protocol',
  'lambda-runtime-function-error-type',
  'expect',
] as const;

/** Bodies that are truncated, deep, not JSON, not UTF-8 or not what their headers say. */
export const BAD_BODIES: readonly Buffer[] = [
  Buffer.from('{"a":'),
  Buffer.from('{"name": "x", "environment": {"K": "v\u0000"}}'),
  Buffer.from('['.repeat(10_000)),
  Buffer.from('['.repeat(5_000) + ']'.repeat(5_000)),
  Buffer.from('{"a":'.repeat(3_000) + '1' + '}'.repeat(3_000)),
  Buffer.from([0x7b, 0x22, 0x6b, 0x22, 0x3a, 0x22, 0x76, 0xff, 0xfe, 0x22, 0x7d]),
  Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00]),
  Buffer.from('PK\u0003\u0004garbage'),
  Buffer.from('\ufeff{}'),
  Buffer.from('null'),
  Buffer.from('"\\ud800"'),
  Buffer.alloc(0),
];

export interface RawRequest {
  readonly method: string;
  readonly target: string;
  readonly headers: readonly (readonly [string, string])[];
  readonly body: Buffer;
  /** Send the body with this chunked framing (possibly broken) instead of as it is. */
  readonly chunked?: 'good' | 'bad-size' | 'no-terminator' | 'huge-size' | 'extension' | undefined;
}

/** The request's bytes, exactly as given: no header is added or checked. */
export function requestBytes(r: RawRequest): Buffer {
  const head = `${r.method} ${r.target} HTTP/1.1\r\n${r.headers.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), framed(r)]);
}

function framed(r: RawRequest): Buffer {
  const size = r.body.length.toString(16);
  switch (r.chunked) {
    case undefined:
      return r.body;
    case 'good':
      return Buffer.concat([Buffer.from(`${size}\r\n`), r.body, Buffer.from('\r\n0\r\n\r\n')]);
    case 'bad-size':
      return Buffer.concat([Buffer.from('zz\r\n'), r.body, Buffer.from('\r\n0\r\n\r\n')]);
    case 'no-terminator':
      return Buffer.concat([Buffer.from(`${size}\r\n`), r.body]);
    case 'huge-size':
      return Buffer.concat([Buffer.from('ffffffffffffffffff\r\n'), r.body]);
    case 'extension':
      return Buffer.concat([Buffer.from(`${size};${'e'.repeat(20_000)}\r\n`), r.body, Buffer.from('\r\n0\r\n\r\n')]);
  }
}

export type Endpoint = { readonly port: number } | { readonly path: string };

export interface RawAnswer {
  /** The status of the first response, or undefined when the server closed or stayed silent. */
  readonly status: number | undefined;
  readonly text: string;
}

/**
 * Sends `bytes` on a new connection and collects the first answer until it is complete, the
 * server closes, or `timeoutMs` passes (then the connection is cut). A request the server still
 * waits on after `halfCloseAfterMs` (a body shorter than announced) is half-closed then: Node
 * aborts a request whose client ended, so ending at once would abort every slow handler too.
 */
export function sendRaw(to: Endpoint, bytes: Buffer, timeoutMs = 5_000, halfCloseAfterMs = 500): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const socket = 'port' in to ? net.connect(to.port, '127.0.0.1') : net.connect(to.path);
    const chunks: Buffer[] = [];
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearTimeout(halfClose);
      socket.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3}) /.exec(text);
      resolve({ status: m ? Number(m[1]) : undefined, text });
    };
    const timer = setTimeout(finish, timeoutMs);
    let halfClose: NodeJS.Timeout | undefined;
    socket.on('connect', () => {
      socket.write(bytes);
      halfClose = setTimeout(() => socket.end(), halfCloseAfterMs);
    });
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      // One answer is all a test reads; a keep-alive server would otherwise hold the socket.
      if (complete(Buffer.concat(chunks).toString('latin1'))) finish();
    });
    socket.on('error', finish);
    socket.on('close', finish);
  });
}

function complete(text: string): boolean {
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) return false;
  const length = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, end));
  if (length) return Buffer.byteLength(text.slice(end + 4), 'latin1') >= Number(length[1]);
  if (/^HTTP\/1\.1 (1\d\d|204|304) /.test(text)) return true;
  return false;
}

/** A path made of good and bad segments under `prefix`. */
export function hostilePath(prefix: string): fc.Arbitrary<string> {
  const segment = fc.oneof(
    fc.constantFrom(...BAD_SEGMENTS),
    fc.stringMatching(/^[A-Za-z0-9._~-]{1,12}$/),
    fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 6 }).map((bytes) => bytes.map((b) => `%${b.toString(16).padStart(2, '0')}`).join('')),
  );
  const query = fc.oneof(fc.constant(''), fc.array(segment, { maxLength: 3 }).map((parts) => `?${parts.join('&')}`), fc.constantFrom('?a=%zz', '?cursor=%00', '?limit=%E0%A4%A', '?async=true&async=%ff'));
  return fc.tuple(fc.array(segment, { minLength: 0, maxLength: 5 }), query).map(([segments, q]) => `${prefix}${segments.join('/')}${q}`);
}

/** Headers drawn from the interesting names with good and bad values, duplicates allowed. */
export function hostileHeaders(base: readonly (readonly [string, string])[]): fc.Arbitrary<(readonly [string, string])[]> {
  const value = fc.oneof(fc.constantFrom(...BAD_HEADER_VALUES), fc.string({ maxLength: 40 }).map((s) => s.replace(/[\r\n]/g, ' ')));
  // Framing headers make most requests unparseable: rarer, so that most reach the handlers.
  const framing = new Set(['content-length', 'transfer-encoding']);
  const name = fc.oneof(
    { arbitrary: fc.constantFrom(...INTERESTING_HEADERS.filter((h) => !framing.has(h))), weight: 9 },
    { arbitrary: fc.constantFrom(...framing), weight: 1 },
  );
  return fc.array(fc.tuple(name, value), { maxLength: 4 }).map((extra) => [...base, ...extra]);
}

export function hostileBody(): fc.Arbitrary<Buffer> {
  return fc.oneof(fc.constantFrom(...BAD_BODIES), fc.uint8Array({ maxLength: 256 }).map((a) => Buffer.from(a)), fc.json({ maxDepth: 4 }).map((s) => Buffer.from(s)));
}

/** A request with its body framed by content-length or (possibly broken) chunked encoding. */
export function hostileRequest(methods: readonly string[], target: fc.Arbitrary<string>, base: readonly (readonly [string, string])[]): fc.Arbitrary<RawRequest> {
  return fc
    .record({
      method: fc.constantFrom(...methods),
      target,
      headers: hostileHeaders(base),
      body: hostileBody(),
      chunked: fc.oneof(
        { arbitrary: fc.constant(undefined), weight: 6 },
        { arbitrary: fc.constantFrom('good' as const, 'bad-size' as const, 'no-terminator' as const, 'huge-size' as const, 'extension' as const), weight: 4 },
      ),
    })
    .map((r): RawRequest => ({
      ...r,
      headers: [r.chunked === undefined ? ['content-length', String(r.body.length)] : ['transfer-encoding', 'chunked'], ...r.headers],
    }));
}

/** Every run is bounded in cases and in time (CI must not hang on a slow machine). */
export const FUZZ_LIMITS = { numRuns: 120, interruptAfterTimeLimit: 20_000, markInterruptAsFailure: false } as const;
