/**
 * Random ids shaped like API Gateway's (base64 of random bytes), for request ids of routed calls
 * and WebSocket messages and for connection ids.
 */
import { randomFillSync } from 'node:crypto';

// Ids are made per connection and per message: random bytes come from a pool refilled 4 KB at a
// time instead of one getrandom call each.
const pool = Buffer.alloc(4096);
let offset = pool.length;

export function randomBase64(bytes: number): string {
  if (offset + bytes > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const out = pool.toString('base64', offset, offset + bytes);
  offset += bytes;
  return out;
}

/** Message ids and request ids share the shape of API Gateway's request ids. */
export function newRequestId(): string {
  return `${randomBase64(10).slice(0, 13)}=`;
}

