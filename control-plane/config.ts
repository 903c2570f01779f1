/**
 * The control plane's configuration, parsed once from the environment (api.md table plus
 * Gantry's own tunables). Numeric names carry their unit.
 */
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { intFrom, parseConfig, sharedShape, urlString, type Env } from '../common/config.js';
import { meteringShape } from './metering/metering-config.js';
import { canonicalRuntime, KNOWN_RUNTIMES } from './runtimes/runtime-catalog.js';
import { dataDirTooLong } from './scheduler/environment-paths.js';
import { defaultNodeMemoryMb } from './scheduler/placement.js';

const schema = z
  .object({
    ...sharedShape,
    GANTRY_CONTROL_PLANE_PORT: intFrom(9000, 0, 65535),
    GANTRY_BIND_HOST: z.string().default('0.0.0.0'),
    // When set (>= 32 chars) its hash replaces the stored one; unset: generated at first start.
    GANTRY_ADMIN_TOKEN: z.string().min(32, 'GANTRY_ADMIN_TOKEN must have at least 32 characters').optional(),
    DOCKER_HOST: z.string().optional(),
    GANTRY_DATA_DIR: z.string().default('/var/lib/gantry'),
    GANTRY_REGION: z.string().regex(/^[a-z0-9-]+$/).default('us-east-1'),
    // Where the key that seals stored secrets (access keys) lives; unset: $GANTRY_DATA_DIR/encryption-key,
    // generated at first start. Every control plane of one database needs the same file.
    GANTRY_ENCRYPTION_KEY_FILE: z.string().optional(),
    // How long the credentials in a function's environment (AWS_ACCESS_KEY_ID, ...) are valid; the
    // environment is replaced before they expire. At least the function's timeout is always given.
    GANTRY_FUNCTION_CREDENTIALS_TTL_MS: intFrom(6 * 3_600_000, 1_000, 12 * 3_600_000),
    GANTRY_PUBLIC_URL: urlString('http://127.0.0.1:8080'),
    GANTRY_KEEP_WARM_MS: intFrom(600_000, 1_000, 86_400_000),
    // Names this node's containers (label gantry.node) so a restart removes only its own orphans.
    GANTRY_NODE_ID: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/).default(os.hostname().slice(0, 64)),
    // Where gateways reach this node, advertised in Redis. Default: this machine's loopback (or
    // GANTRY_BIND_HOST when it names one address) and the bound port; set it on every node of a
    // cluster whose gateways run elsewhere.
    GANTRY_NODE_URL: z.string().url().optional(),
    // The node's advertisement is refreshed this often and lives three times as long.
    GANTRY_NODE_HEARTBEAT_INTERVAL_MS: intFrom(2_000, 100, 60_000),
    GANTRY_IMAGE_PREFIX: z.string().default('gantry/'),
    // The Docker network functions with network "default" join (created when missing).
    GANTRY_FUNCTION_NETWORK: z.string().regex(/^[A-Za-z0-9_.-]+$/).default('gantry-functions'),
    GANTRY_FUNCTION_USER: z.string().regex(/^\d+:\d+$/).default('993:993'),
    // How functions reach a gateway for @connections (GANTRY_CONNECTIONS_URL); unset: the host's
    // address on GANTRY_FUNCTION_NETWORK with GANTRY_PUBLIC_URL's port.
    GANTRY_FUNCTION_GATEWAY_URL: z.string().url().optional(),
    // Host firewall rules (iptables) on the function bridge, so functions reach no port of the host:
    // "on" (default) or "off" when the operator's own firewall does it.
    GANTRY_FUNCTION_FIREWALL: z.enum(['on', 'off']).default('on'),
    // With the firewall on, functions may still open connections to the gateway's port on the host
    // (GANTRY_FUNCTION_GATEWAY_URL's, else GANTRY_PUBLIC_URL's), as they would to a public API:
    // "@connections" needs it. "false" closes that port too.
    GANTRY_FUNCTIONS_REACH_GATEWAY: z.enum(['true', 'false']).default('true').transform((v) => v === 'true'),
    // The function-facing Lambda API (AWS_ENDPOINT_URL_LAMBDA): this port on the host's address on
    // GANTRY_FUNCTION_NETWORK, the one host port besides the gateway's the firewall opens (and closes
    // with it when GANTRY_FUNCTIONS_REACH_GATEWAY is false). 0: any free port.
    GANTRY_FUNCTION_LAMBDA_PORT: intFrom(9001, 0, 65535),
    // The gateway's function-facing TLS listener for `@connections` (the gateway's variable of the
    // same name): functions' https on port 443 of the host's function-network address is forwarded
    // there, and WebSocket API names map to that address in their containers. 0 turns it off.
    GANTRY_FUNCTION_TLS_PORT: intFrom(8443, 0, 65535),
    // The function CA, created here at first start (default: $GANTRY_DATA_DIR/function-ca).
    GANTRY_FUNCTION_CA_DIR: z.string().refine((p) => p.startsWith('/'), 'must be an absolute path').optional(),
    // Docker serialises much of container creation; more parallel starts than this only queue
    // inside the engine on a 2-core machine (OpenWhisk ships 10, LocalStack 16).
    GANTRY_DOCKER_MAX_CONCURRENT_STARTS: intFrom(4, 1, 64),
    // How often this node removes its exited containers that nothing removed (each on the second
    // pass that finds it), and collects code archives and directories no function uses.
    GANTRY_CONTAINER_SWEEP_INTERVAL_MS: intFrom(60_000, 100, 3_600_000),
    GANTRY_CODE_GC_INTERVAL_MS: intFrom(600_000, 100, 86_400_000),
    GANTRY_DOCKER_TIMEOUT_MS: intFrom(30_000, 1_000, 300_000),
    // Lambda's own init limit is 10 s; a runtime that has not polled /next by then is dead.
    GANTRY_INIT_TIMEOUT_MS: intFrom(10_000, 100, 300_000),
    // Sum of memoryMb of live environments on this node (default: 3/4 of host memory).
    GANTRY_NODE_MEMORY_MB: intFrom(defaultNodeMemoryMb(os.totalmem()), 128, 16_777_216),
    // Prewarmed runtime containers per runtime (0 disables stem cells).
    GANTRY_STEM_CELLS_PER_RUNTIME: intFrom(2, 0, 64),
    // Memory size of the default stem cells: Lambda's default function size.
    GANTRY_STEM_CELL_MEMORY_MB: intFrom(128, 64, 10240),
    // Which runtimes keep stem cells, comma-separated; unset: every runtime that can be specialised
    // and whose image is present. Each idle stem cell holds a container (a JVM holds ~100 MB).
    GANTRY_STEM_CELL_RUNTIMES: z
      .string()
      .optional()
      .transform((v) => (v === undefined ? undefined : v.split(',').map((s) => s.trim()).filter((s) => s !== ''))),
    // Function output kept per invocation; a function printing more has the rest counted and dropped.
    GANTRY_LOG_MAX_BYTES_PER_INVOCATION: intFrom(256 * 1024, 4096, 16 * 1024 * 1024),
    // Function output older than this is deleted (Lambda keeps logs until you expire them).
    GANTRY_LOG_RETENTION_MS: intFrom(7 * 24 * 3_600_000, 60_000, 365 * 24 * 3_600_000),
    // Open `logs?follow=true` streams one node serves at once; beyond it such a request gets a 503.
    GANTRY_LOG_MAX_FOLLOWERS: intFrom(100, 1, 10_000),
    // After an init failure, calls within this window get the same error without a new start.
    GANTRY_INIT_FAILURE_BACKOFF_MS: intFrom(2_000, 0, 600_000),
    // Per environment, on its Runtime API socket (issue 21 §2): a runtime needs one connection.
    GANTRY_RUNTIME_API_MAX_CONNECTIONS: intFrom(4, 1, 64),
    GANTRY_RUNTIME_API_CONNECTIONS_PER_SECOND: intFrom(200, 1, 1_000_000),
    // Requests that move no invocation forward (the poll for work and its answer are free).
    GANTRY_RUNTIME_API_REQUESTS_PER_SECOND: intFrom(100, 1, 1_000_000),
    // Body bytes; past it reading pauses. At least 8 MiB/s, so a 6 MiB response never waits long.
    GANTRY_RUNTIME_API_BYTES_PER_SECOND: intFrom(64 * 1024 * 1024, 8 * 1024 * 1024, 1024 * 1024 * 1024),
    // The process's fd limit (default: its soft RLIMIT_NOFILE) and the part of it environments'
    // extra Runtime API connections may never take (default: a tenth, at least 1024, at most half).
    GANTRY_FD_LIMIT: z.coerce.number().int().min(64).max(Number.MAX_SAFE_INTEGER).optional(),
    GANTRY_FD_HEADROOM: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
    ...meteringShape,
    // Async invocation (control-plane/async). Lambda's Event payload limit since 2025 (compat.md §2.3).
    GANTRY_ASYNC_MAX_PAYLOAD_BYTES: intFrom(1024 * 1024, 1024, 6 * 1024 * 1024),
    // Async events run at once per node; each holds a BullMQ lock, and a function's own limit still applies.
    GANTRY_ASYNC_WORKER_CONCURRENCY: intFrom(32, 1, 1024),
    // A crashed node's running events are redelivered after this (BullMQ's lock; renewed while running).
    GANTRY_ASYNC_LOCK_MS: intFrom(30_000, 1_000, 600_000),
    // An event waits this long on the node for a concurrency slot before it goes back to the queue.
    GANTRY_ASYNC_SLOT_WAIT_MS: intFrom(1_000, 0, 60_000),
    // Throttled events go back to the queue after a delay doubling between these (Lambda: 1 s to 5 min).
    GANTRY_ASYNC_THROTTLE_MIN_DELAY_MS: intFrom(1_000, 0, 300_000),
    GANTRY_ASYNC_THROTTLE_MAX_DELAY_MS: intFrom(300_000, 0, 3_600_000),
  })
  .superRefine((c, ctx) => {
    if (c.GANTRY_DATA_DIR !== '' && !c.GANTRY_DATA_DIR.startsWith('/')) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['GANTRY_DATA_DIR'], message: 'must be an absolute path' });
    }
    for (const id of c.GANTRY_STEM_CELL_RUNTIMES ?? []) {
      if (canonicalRuntime(id) !== id) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['GANTRY_STEM_CELL_RUNTIMES'], message: `"${id}" is not a runtime id (known: ${KNOWN_RUNTIMES.join(', ')})` });
      }
    }
    const tooLong = dataDirTooLong(c.GANTRY_DATA_DIR);
    if (tooLong !== undefined) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['GANTRY_DATA_DIR'], message: tooLong });
    if (c.GANTRY_ASYNC_THROTTLE_MAX_DELAY_MS < c.GANTRY_ASYNC_THROTTLE_MIN_DELAY_MS) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['GANTRY_ASYNC_THROTTLE_MAX_DELAY_MS'], message: 'must be at least GANTRY_ASYNC_THROTTLE_MIN_DELAY_MS' });
    }
    })
  // Beside the code and sockets, which the control plane owns already.
  .transform((c) => ({
    ...c,
    GANTRY_INTERNAL_TOKEN_FILE: c.GANTRY_INTERNAL_TOKEN_FILE ?? path.join(c.GANTRY_DATA_DIR, 'internal-token'),
    GANTRY_FUNCTION_CA_DIR: c.GANTRY_FUNCTION_CA_DIR ?? path.join(c.GANTRY_DATA_DIR, 'function-ca'),
    GANTRY_ENCRYPTION_KEY_FILE: c.GANTRY_ENCRYPTION_KEY_FILE ?? path.join(c.GANTRY_DATA_DIR, 'encryption-key'),
  }));

export type ControlPlaneConfig = Readonly<z.output<typeof schema>>;

export function loadControlPlaneConfig(env: Env): ControlPlaneConfig {
  return parseConfig(schema, env);
}

/** What is safe to log at start: secrets masked. */
export function describeConfig(c: ControlPlaneConfig): Record<string, unknown> {
  return {
    ...c,
    DATABASE_URL: maskUrl(c.DATABASE_URL),
    REDIS_URL: maskUrl(c.REDIS_URL),
    GANTRY_ADMIN_TOKEN: c.GANTRY_ADMIN_TOKEN === undefined ? undefined : '[set]',
    GANTRY_INTERNAL_TOKEN: c.GANTRY_INTERNAL_TOKEN === undefined ? undefined : '[set]',
  };
}

export function maskUrl(u: string): string {
  try {
    const url = new URL(u);
    if (url.password !== '') url.password = '***';
    return url.toString();
  } catch {
    return '[unparseable]';
  }
}
