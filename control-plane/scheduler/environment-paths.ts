/**
 * Where an environment's host directories live, laid out so that its Runtime API socket path has
 * a fixed length beyond GANTRY_DATA_DIR: a unix socket path must fit sun_path (108 bytes with its
 * NUL), and Node binds a longer one silently truncated, at a path nobody connects to. Every part
 * Gantry chooses is of fixed length (the node's directory is a hash of its id, which may have 64
 * characters), so the data dir's own length is the only variable, checked once at start.
 *
 *   <data dir>/containers/<node key:8>/<environment id:12>/runtime/runtime.sock
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { MAX_SOCKET_PATH_BYTES } from '../runtime-api/runtime-channel.js';

export const MAX_UNIX_SOCKET_PATH_BYTES = MAX_SOCKET_PATH_BYTES;

export const ENVIRONMENT_ID_CHARS = 12;
const NODE_KEY_CHARS = 8;
export const RUNTIME_SOCKET_NAME = 'runtime.sock';
const SOCKET_DIR_NAME = 'runtime';
const TASK_DIR_NAME = 'task';

/** Bytes of the socket path after GANTRY_DATA_DIR, whatever the node and environment ids. */
export const SOCKET_PATH_SUFFIX_BYTES = ['', 'containers', 'x'.repeat(NODE_KEY_CHARS), 'x'.repeat(ENVIRONMENT_ID_CHARS), SOCKET_DIR_NAME, RUNTIME_SOCKET_NAME].join('/').length;

/** The longest GANTRY_DATA_DIR whose sockets still fit. */
export const MAX_DATA_DIR_BYTES = MAX_UNIX_SOCKET_PATH_BYTES - SOCKET_PATH_SUFFIX_BYTES;

/** Why `dataDir` cannot hold runtime sockets, or undefined when it can. */
export function dataDirTooLong(dataDir: string): string | undefined {
  const bytes = Buffer.byteLength(path.resolve(dataDir));
  if (bytes <= MAX_DATA_DIR_BYTES) return undefined;
  return `is ${bytes} bytes long; at most ${MAX_DATA_DIR_BYTES} leave room for the runtime socket paths under it (a unix socket path has at most ${MAX_UNIX_SOCKET_PATH_BYTES} bytes)`;
}

/** A fixed-length, filesystem-safe stand-in for a node id of any length. */
export function nodeKeyOf(nodeId: string): string {
  return createHash('sha256').update(nodeId).digest('hex').slice(0, NODE_KEY_CHARS);
}

/** This node's environment directories; another node sharing the data dir has its own. */
export function containersDirOf(dataDir: string, nodeId: string): string {
  return path.join(dataDir, 'containers', nodeKeyOf(nodeId));
}

/** Where earlier versions kept this node's environments (by raw node id): swept at start. */
export function legacyContainersDirOf(dataDir: string, nodeId: string): string {
  return path.join(dataDir, 'containers', nodeId);
}

export interface EnvironmentPaths {
  readonly root: string;
  /** Holds the socket; mounted read-only at /run/gantry. */
  readonly socketDir: string;
  readonly socketPath: string;
  readonly taskDir: string;
}

export function environmentPathsOf(containersDir: string, environmentId: string): EnvironmentPaths {
  const root = path.join(containersDir, environmentId);
  const socketDir = path.join(root, SOCKET_DIR_NAME);
  return { root, socketDir, socketPath: path.join(socketDir, RUNTIME_SOCKET_NAME), taskDir: path.join(root, TASK_DIR_NAME) };
}
