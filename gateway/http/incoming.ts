/** What the gateway reads off an incoming request, the same way for routed calls and `@connections`. */
import type http from 'node:http';

/** The body grew past the limit while being read (the caller answers 413). */
export class BodyTooLarge extends Error {
  override readonly name = 'BodyTooLarge';
}

/** The whole body, at most `limit` bytes (else BodyTooLarge); an empty body is an empty buffer. */
export async function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new BodyTooLarge();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** The client's address, IPv4-mapped IPv6 addresses shown as IPv4 (as API Gateway's `sourceIp`). */
export function clientIp(req: http.IncomingMessage): string {
  const ip = req.socket.remoteAddress ?? '';
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}
